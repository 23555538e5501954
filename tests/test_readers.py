import io
import os
from pathlib import Path

import pytest

from dedup.model import Problem
from dedup.readers import decode, discover, read_inputs


def test_discover_walks_folders_in_sorted_order(tmp_path: Path) -> None:
    for name in ("b.txt", "a.txt", "sub/c.txt", "sub/skip.md", "A/z.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    found, problems = discover([str(tmp_path)])
    assert problems == []
    assert [i.relpath for i in found] == ["A/z.txt", "a.txt", "b.txt", "sub/c.txt"]
    assert all(i.id == f"{tmp_path.as_posix()}/{i.relpath}" for i in found)


def test_discover_names_files_stdin_and_missing_paths(tmp_path: Path) -> None:
    f = tmp_path / "notes.md"
    f.write_text("x", encoding="utf-8")
    found, problems = discover([str(f), "-", str(tmp_path / "nope")])
    assert [(i.path, i.relpath) for i in found] == [(str(f), "notes.md"), ("-", "stdin.txt")]
    assert problems == [Problem(str(tmp_path / "nope"), "No such file or directory")]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_non_regular_files_are_problems(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    found, problems = discover([str(fifo)])
    assert found == [] and problems[0].message == "not a regular file or folder"


def test_decode_reports_line_and_offset() -> None:
    assert decode("é".encode(), "f") == "é"
    bad = decode(b"ok\nok\nbad \xff here", "f.txt")
    assert isinstance(bad, Problem) and bad.line == 3 and "0xff at offset 10" in bad.message
    assert str(bad).startswith("f.txt:3: not valid UTF-8")
    binary = decode(b"a\nb\x00c", "g")
    assert isinstance(binary, Problem) and binary.line == 2 and "NUL byte at offset 3" in binary.message


def test_read_inputs_keeps_going_after_a_bad_file(tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_bytes(b"fine\r\n")
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xc3\x28")
    found, _ = discover([str(bad), str(good), "-"])
    loaded, problems = read_inputs(found, stdin=io.BytesIO(b"stdin text"))
    assert [item.document.text for item in loaded] == ["fine\r\n", "stdin text"]
    assert [item.document.source for item in loaded] == [str(good), "<stdin>"]
    assert [p.source for p in problems] == [str(bad)]
