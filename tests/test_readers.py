import codecs
import hashlib
import io
import os
import socket
import stat
from pathlib import Path

import pytest

from dedup.model import Problem
from dedup.readers import (
    DEFAULT_MAX_FILE_SIZE,
    Decoded,
    codec_name,
    decode,
    discover,
    parse_size,
    read_inputs,
    unchanged_since,
)
from dedup.render.jsonl import sha256


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
    assert found == [] and problems[0].message == "not a regular file or folder (a FIFO); skipped"


def test_decode_reports_line_and_offset() -> None:
    assert decode("é".encode(), "f") == Decoded("é", "utf-8")
    bad = decode(b"ok\nok\nbad \xff here", "f.txt")
    assert isinstance(bad, Problem) and bad.line == 3 and "0xff at offset 10" in bad.message
    assert bad.offset == 10
    assert str(bad).startswith("f.txt:3: not valid UTF-8")
    binary = decode(b"a\nb\x00c", "g")
    assert isinstance(binary, Problem) and binary.line == 2 and "NUL byte at offset 3" in binary.message
    assert binary.offset == 3


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


# -- encodings -----------------------------------------------------------------------------------

FRENCH = "Café crème à la française, déjà vu. Ça coûte 5 € l'été, n'est-ce pas ? Où êtes-vous allés ?\n"


def test_a_named_encoding_decodes_and_is_recorded() -> None:
    got = decode(FRENCH.encode("cp1252"), "f", "cp1252")
    assert got == Decoded(FRENCH, "cp1252")


def test_auto_prefers_utf8_then_detects_and_round_trips() -> None:
    assert decode(FRENCH.encode(), "f", "auto") == Decoded(FRENCH, "utf-8")
    data = (FRENCH * 5).encode("cp1252")
    got = decode(data, "f", "auto")
    assert isinstance(got, Decoded) and got.detected and got.encoding != "utf-8"
    assert got.text.encode(got.encoding) == data  # the named codec gives the bytes back


def test_auto_reads_utf16_by_its_byte_order_mark_and_keeps_the_mark() -> None:
    for codec in ("utf-16-le", "utf-16-be", "utf-32-le"):
        data = ("\ufeff" + FRENCH).encode(codec)
        got = decode(data, "f", "auto")
        assert got == Decoded("\ufeff" + FRENCH, codec, True), codec
    assert decode(b"\xff\xfea\x00", "f", "auto") == Decoded("\ufeffa", "utf-16-le", True)


def test_binary_is_found_in_wide_encodings_too() -> None:
    bad = decode("ab\ncd\x00e".encode("utf-16-le"), "f", "utf-16-le")
    assert isinstance(bad, Problem) and bad.line == 2 and bad.offset == 10 and "NUL character" in bad.message


def test_bytes_the_codec_cannot_decode_are_named_with_line_and_offset() -> None:
    bad = decode(b"ok\nd\xe9j\xe0\n", "f.txt", "ascii")
    assert isinstance(bad, Problem) and (bad.line, bad.offset) == (2, 4)
    assert bad.message == "not valid ascii (byte 0xe9 at offset 4); skipped, try --encoding auto"


def test_a_codec_that_would_not_give_the_same_bytes_back_is_refused() -> None:
    data = codecs.BOM_UTF16_BE + "abc".encode("utf-16-be")  # 'utf-16' would write a little-endian mark
    bad = decode(data, "f", "utf-16")
    assert isinstance(bad, Problem) and "does not give back the same bytes" in bad.message


def test_codec_names() -> None:
    assert codec_name("latin1") == "iso8859-1" and codec_name("UTF8") == "utf-8" and codec_name("AUTO") == "auto"
    for name in ("hex", "base64", "no-such-codec"):
        with pytest.raises(LookupError):
            codec_name(name)


def test_read_inputs_records_the_encoding(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(FRENCH.encode("cp1252"))
    found, _ = discover([str(f)])
    loaded, problems = read_inputs(found, encoding="cp1252")
    assert problems == [] and loaded[0].document.encoding == "cp1252" and loaded[0].document.text == FRENCH


@pytest.mark.parametrize(("data", "encoding", "from_bytes"), [
    (FRENCH.encode(), "utf-8", True),
    (codecs.BOM_UTF8 + FRENCH.encode(), "auto", True),  # the mark stays in the text, so the bytes are its UTF-8
    (FRENCH.encode("cp1252"), "cp1252", False),
    (codecs.BOM_UTF16_LE + FRENCH.encode("utf-16-le"), "auto", False),
])
def test_the_input_hash_comes_from_the_bytes_when_they_are_the_texts_utf8(
        tmp_path: Path, data: bytes, encoding: str, from_bytes: bool) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes(data)
    loaded, _ = read_inputs(discover([str(f)])[0], encoding=encoding)
    text = loaded[0].document.text
    assert text.lstrip("\ufeff") == FRENCH
    if from_bytes:
        assert loaded[0].sha256 == sha256(text) == "sha256:" + hashlib.sha256(data).hexdigest()
    else:
        assert loaded[0].sha256 is None and sha256(text) != "sha256:" + hashlib.sha256(data).hexdigest()


# -- sizes, races ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "size"), [
    ("123", 123), ("10K", 10 << 10), ("10M", 10 << 20), ("10MiB", 10 << 20), ("10mb", 10 << 20),
    ("1.5G", 3 << 29), ("256M", DEFAULT_MAX_FILE_SIZE), ("0", 0),
])
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "ten", "-1", "10X", "nan", "1e30G"])
def test_parse_size_refuses(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


def test_files_over_the_size_limit_are_skipped_with_a_message(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_bytes(b"x" * 2000)
    (tmp_path / "small.txt").write_bytes(b"x" * 10)
    found, _ = discover([str(tmp_path), "-"])
    loaded, problems = read_inputs(found, stdin=io.BytesIO(b"y" * 2000), max_size=1024)
    assert [item.input.relpath for item in loaded] == ["small.txt"]
    assert [p.message for p in problems] == [
        "larger than --max-file-size (2,000 bytes > 1 KiB); skipped",
        "larger than --max-file-size (more than 1 KiB); skipped",  # stdin: read one byte past the limit
    ]
    loaded, problems = read_inputs(found[:1], max_size=0)
    assert problems == [] and len(loaded[0].document.text) == 2000


def test_a_file_that_disappears_before_it_is_read_is_a_problem(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a", encoding="utf-8")
    (tmp_path / "b.txt").write_text("b", encoding="utf-8")
    found, _ = discover([str(tmp_path)])
    (tmp_path / "a.txt").unlink()
    loaded, problems = read_inputs(found)
    assert [item.document.text for item in loaded] == ["b"]
    assert problems == [Problem(str(tmp_path / "a.txt"), "disappeared before it could be read; skipped")]


def test_a_file_that_changes_while_it_is_read_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = tmp_path / "a.txt"
    f.write_text("before", encoding="utf-8")
    found, _ = discover([str(f)])
    real_fstat = os.fstat
    calls = []

    def fstat(fd: int) -> os.stat_result:
        st = real_fstat(fd)
        calls.append(fd)
        if len(calls) == 2:  # after reading: as if a writer appended meanwhile
            fields = list(st)
            fields[stat.ST_SIZE] += 5
            return os.stat_result(fields)
        return st

    monkeypatch.setattr("dedup.readers.os.fstat", fstat)
    loaded, problems = read_inputs(found)
    assert loaded == [] and problems == [Problem(str(f), "changed while it was being read; skipped")]


def test_unchanged_since(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("one", encoding="utf-8")
    loaded, _ = read_inputs(discover([str(f)])[0])
    stamp = loaded[0].stamp
    assert stamp is not None and unchanged_since(str(f), stamp)
    f.write_text("other", encoding="utf-8")
    assert not unchanged_since(str(f), stamp)
    f.unlink()
    assert not unchanged_since(str(f), stamp)


def test_an_unreadable_file_is_a_problem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "a.txt").write_text("a", encoding="utf-8")
    (tmp_path / "b.txt").write_text("b", encoding="utf-8")
    real_open = os.open

    def deny(path: str, flags: int, *args: int) -> int:
        if path.endswith("a.txt"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, flags, *args)

    monkeypatch.setattr("dedup.readers.os.open", deny)
    loaded, problems = read_inputs(discover([str(tmp_path)])[0])
    assert [item.document.text for item in loaded] == ["b"]
    assert problems == [Problem(str(tmp_path / "a.txt"), "Permission denied; skipped")]


# -- walking -------------------------------------------------------------------------------------

def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_symlinks_are_not_followed_by_default(tmp_path: Path) -> None:
    root = _tree(tmp_path / "in", {"a.txt": "a", "sub/b.txt": "b"})
    outside = _tree(tmp_path / "outside", {"secret.txt": "s", "d/c.txt": "c"})
    (root / "inside-link.txt").symlink_to(root / "a.txt")
    (root / "outside-link.txt").symlink_to(outside / "secret.txt")
    (root / "dir-link").symlink_to(outside / "d")
    (root / "sub-link").symlink_to(root / "sub")
    (root / "broken.txt").symlink_to(root / "nowhere.txt")
    (root / "loop.txt").symlink_to(root / "loop.txt")
    (root / "broken-not-matching.md").symlink_to(root / "nowhere.md")
    notes: list[str] = []
    found, problems = discover([str(root)], notes=notes)
    assert [i.relpath for i in found] == ["a.txt", "sub/b.txt"]
    by_name = {Path(p.source).name: p.message for p in problems}
    assert set(by_name) == {"outside-link.txt", "dir-link", "broken.txt", "loop.txt"}
    assert by_name["outside-link.txt"].startswith(f"symlink to {outside / 'secret.txt'}, outside the input folder")
    assert "--follow-symlinks" in by_name["dir-link"]
    assert by_name["broken.txt"] == "broken symlink (its target does not exist); skipped"
    assert by_name["loop.txt"].startswith("symlink loop")
    assert sorted(n.split(": ")[0].rsplit("/", 1)[1] for n in notes) == ["inside-link.txt", "sub-link"]


def test_follow_symlinks_reads_outside_but_stops_at_loops(tmp_path: Path) -> None:
    root = _tree(tmp_path / "in", {"a.txt": "a", "sub/b.txt": "b"})
    outside = _tree(tmp_path / "outside", {"secret.txt": "s", "d/c.txt": "c"})
    (root / "outside-link.txt").symlink_to(outside / "secret.txt")
    (root / "dir-link").symlink_to(outside / "d")
    (root / "sub" / "up").symlink_to(root)  # a loop back to an ancestor
    (root / "same.txt").symlink_to(root / "a.txt")
    notes: list[str] = []
    found, problems = discover([str(root)], follow_symlinks=True, notes=notes)
    assert [i.relpath for i in found] == ["a.txt", "dir-link/c.txt", "outside-link.txt", "sub/b.txt"]
    assert [(Path(p.source).name, p.message.split(":")[0]) for p in problems] == [("up", "symlink loop")]
    assert any("same.txt: the same file as" in n for n in notes)


def test_a_file_reached_twice_is_read_once(tmp_path: Path) -> None:
    root = _tree(tmp_path / "in", {"a.txt": "a", "sub/b.txt": "b"})
    os.link(root / "a.txt", root / "hard.txt")
    notes: list[str] = []
    found, problems = discover([str(root), str(root / "sub"), str(root / "a.txt")], notes=notes)
    assert problems == []
    assert [i.relpath for i in found] == ["a.txt", "sub/b.txt"]
    assert notes == [f"{root.as_posix()}/hard.txt: the same file as {root.as_posix()}/a.txt; read once"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifos_and_sockets_in_folders_are_skipped_without_blocking(tmp_path: Path) -> None:
    root = _tree(tmp_path / "in", {"a.txt": "a"})
    os.mkfifo(root / "pipe.txt")
    os.mkfifo(root / "pipe.other")  # not matched by the pattern: not mentioned
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(root / "sock.txt"))
        found, problems = discover([str(root)])
    assert [i.relpath for i in found] == ["a.txt"]
    assert sorted((Path(p.source).name, p.message) for p in problems) == [
        ("pipe.txt", "a FIFO, not a regular file; skipped"),
        ("sock.txt", "a socket, not a regular file; skipped"),
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_file_replaced_by_a_fifo_after_discovery_does_not_block(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_text("a", encoding="utf-8")
    found, _ = discover([str(f)])
    f.unlink()
    os.mkfifo(f)
    loaded, problems = read_inputs(found)
    assert loaded == [] and problems == [Problem(str(f), "a FIFO, not a regular file; skipped")]


def _deep(root: Path, depth: int, name: str) -> None:
    """A chain of ``depth`` nested folders, made relative to open folders (no path length limit),
    with a.txt at the bottom."""
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir(name, dir_fd=fd)
            nxt = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nxt
        out = os.open("a.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, b"deep")
        os.close(out)
    finally:
        os.close(fd)


def _undeep(root: Path, name: str) -> None:
    """Remove a chain made by ``_deep`` from the top, moving the rest of it up one level at a time
    (shutil.rmtree recurses, and would hit the recursion limit)."""
    top, spare = root / name, root / f"{name}.up"
    while top.exists():
        (top / "a.txt").unlink(missing_ok=True)
        if (top / name).exists():
            os.rename(top / name, spare)
            os.rmdir(top)
            os.rename(spare, top)
        else:
            os.rmdir(top)


def test_very_deep_trees_are_walked_without_recursion(tmp_path: Path) -> None:
    _deep(tmp_path, 1500, "d")  # deeper than the interpreter's recursion limit
    try:
        found, problems = discover([str(tmp_path)])
        assert problems == [] and len(found) == 1 and found[0].relpath.count("/") == 1500
    finally:
        _undeep(tmp_path, "d")


def test_a_tree_deeper_than_the_path_limit_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    _deep(tmp_path, 300, "x" * 20)  # 6,300 characters: more than PATH_MAX
    try:
        found, problems = discover([str(tmp_path)])
        assert found == [] and len(problems) == 1
        assert problems[0].message.startswith("cannot list folder: File name too long")
    finally:
        _undeep(tmp_path, "x" * 20)


def test_excluded_folders_and_leftover_temporary_files_are_never_read(tmp_path: Path) -> None:
    root = _tree(tmp_path / "in", {"a.txt": "a", "out/a.txt": "cleaned", ".a.txt.x1y2.dedup-tmp": "half"})
    notes: list[str] = []
    found, problems = discover([str(root)], "*", exclude=[str(root / "out")], notes=notes)
    assert problems == [] and [i.relpath for i in found] == ["a.txt"]
    assert any("the output folder" in n for n in notes)
    assert any("1 temporary file(s) left by an interrupted run" in n for n in notes)
