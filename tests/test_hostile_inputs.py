"""Hostile inputs through the command line: every problem named (stderr and report), exit 3, every
other input processed; nothing written outside the output folder; nothing shown raw on a terminal."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import dedup.cli
from dedup import Deduplicator, Document
from dedup.apply import restore
from dedup.cli import cli
from dedup.model import REMOVE, Edit
from dedup.render.jsonl import dumps, edit_record
from dedup.runner import ReportWriter

P1 = "The council opened a floating library on the old harbour on Saturday, in a former ferry."
P2 = "The ferry will stay moored at the north pier until October, then move to the river mouth."
DUP = f"{P1}\n{P2}\n{P1}\n"
FRENCH = "Le conseil a ouvert une bibliothèque flottante sur le vieux port samedi, dans un ancien bac à l'été."
FR_DUP = f"{FRENCH}\n{P2}\n{FRENCH}\n"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def edits_of(record: dict[str, Any]) -> list[Edit]:
    return [Edit(REMOVE, e["input"][0], e["input"][1], e["old"], e["new"], e["rule"], e["reason"], None, (),
                 None, None, None) for e in record["edits"]]


def test_every_bad_input_is_named_and_the_rest_is_processed(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "in"
    write(src / "a.txt", DUP)
    write(src / "binary.txt", b"GIF89a\n\x01\x00\x00;")
    write(src / "latin1.txt", "ok\ncafé\n".encode("latin-1"))
    write(src / "empty.txt", "")
    write(src / "blank.txt", " \n\t\n\n")
    write(src / "big.txt", "x" * 5000)
    os.mkfifo(src / "fifo.txt")
    (src / "outside.txt").symlink_to(tmp_path / "elsewhere.txt")
    write(tmp_path / "elsewhere.txt", DUP)
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(src / "sock.txt"))
        result = runner.invoke(cli, ["clean", str(src), "-o", str(tmp_path / "out"), "--max-file-size", "4K",
                                     "--report", str(tmp_path / "r.jsonl")])
    assert result.exit_code == 3, result.stderr
    err = result.stderr
    assert f"{src}/binary.txt:2: binary file (NUL byte at offset 8); skipped" in err
    assert f"{src}/latin1.txt:2: not valid UTF-8 (byte 0xe9 at offset 6); skipped, try --encoding auto" in err
    assert f"{src}/big.txt: larger than --max-file-size (5,000 bytes > 4 KiB); skipped" in err
    assert f"{src}/fifo.txt: a FIFO, not a regular file; skipped" in err
    assert f"{src}/sock.txt: a socket, not a regular file; skipped" in err
    assert f"{src}/outside.txt: symlink to {tmp_path}/elsewhere.txt, outside the input folder; skipped" in err
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "blank.txt", "empty.txt"]
    assert (out / "a.txt").read_text(encoding="utf-8") == f"{P1}\n{P2}\n"
    assert (out / "empty.txt").read_bytes() == b"" and (out / "blank.txt").read_bytes() == b" \n\t\n\n"
    problems = {Path(r["source"]).name: r for r in records(tmp_path / "r.jsonl") if "problem" in r}
    assert set(problems) == {"binary.txt", "latin1.txt", "big.txt", "fifo.txt", "sock.txt", "outside.txt"}
    assert (problems["latin1.txt"]["line"], problems["latin1.txt"]["offset"]) == (2, 6)
    assert (problems["binary.txt"]["line"], problems["binary.txt"]["offset"]) == (2, 8)
    assert problems["big.txt"]["offset"] is None


def test_a_named_encoding_is_decoded_recorded_and_written_as_utf8(runner: CliRunner, tmp_path: Path) -> None:
    original = FR_DUP.encode("cp1252")
    f = write(tmp_path / "in" / "fr.txt", original)
    report = tmp_path / "r.jsonl"
    result = runner.invoke(cli, ["clean", str(f), "-o", str(tmp_path / "out"), "--encoding", "cp1252",
                                 "--report", str(report)])
    assert result.exit_code == 0, result.stderr
    assert f"{f}: decoded as cp1252 (--encoding)" in result.stderr
    assert "cp1252 1 (written as UTF-8)" in result.stderr
    cleaned = (tmp_path / "out" / "fr.txt").read_bytes()
    assert cleaned == f"{FRENCH}\n{P2}\n".encode()
    (record,) = records(report)
    assert record["document"]["encoding"] == "cp1252"
    rebuilt = restore(cleaned.decode("utf-8"), edits_of(record))
    assert rebuilt.encode(record["document"]["encoding"]) == original  # byte for byte


def test_auto_detects_the_encoding_and_says_so(runner: CliRunner, tmp_path: Path) -> None:
    write(tmp_path / "in" / "fr.txt", (FR_DUP * 3).encode("cp1252"))
    write(tmp_path / "in" / "utf8.txt", DUP)
    report = tmp_path / "r.jsonl"
    result = runner.invoke(cli, ["clean", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--encoding", "auto",
                                 "--report", str(report)])
    assert result.exit_code == 0, result.stderr
    fr, utf8 = records(report)
    assert "encoding" not in utf8["document"]
    assert f"fr.txt: decoded as {fr['document']['encoding']} (detected)" in result.stderr
    assert (tmp_path / "out" / "fr.txt").read_text(encoding="utf-8").startswith(FRENCH)


@pytest.mark.parametrize(("args", "message"), [
    (["--encoding", "klingon"], "is not a text encoding"),
    (["--encoding", "base64"], "is not a text encoding"),
    (["--max-file-size", "lots"], "not a size"),
])
def test_bad_read_options_are_usage_errors(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(cli, ["clean", "-", *args], input=b"x")
    assert result.exit_code == 2 and message in result.stderr


def test_an_output_folder_inside_the_input_is_never_read_back(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "in"
    write(src / "a.txt", DUP)
    args = ["clean", str(src), "-o", str(src / "cleaned"), "--glob", "*", "-q"]
    for _ in range(2):
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.stderr
    assert sorted(p.relative_to(src).as_posix() for p in src.rglob("*")) == ["a.txt", "cleaned", "cleaned/a.txt"]
    assert (src / "a.txt").read_text(encoding="utf-8") == DUP


def test_the_report_is_never_read_back(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "in"
    write(src / "a.txt", DUP)
    args = ["clean", str(src), "--check", "--glob", "*", "--report", str(src / "edits.jsonl")]
    runner.invoke(cli, args)
    result = runner.invoke(cli, args)
    assert result.exit_code == 1 and "edits.jsonl: the output or report file itself; not read" in result.stderr
    assert len(records(src / "edits.jsonl")) == 1


def test_outputs_onto_inputs_are_refused(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "in"
    a = write(src / "a.txt", DUP)
    result = runner.invoke(cli, ["clean", str(src), "-o", str(src)])
    assert result.exit_code == 2 and "is an input folder: use --in-place" in result.stderr
    result = runner.invoke(cli, ["clean", str(a), "-o", str(src)])
    assert result.exit_code == 2 and "would overwrite an input" in result.stderr
    assert a.read_text(encoding="utf-8") == DUP


def test_names_cannot_move_the_output_out_of_its_folder(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "in"
    write(src / "sub" / "a.txt", DUP)
    out = tmp_path / "out"
    out.mkdir()
    (out / "sub").symlink_to(tmp_path / "victim")  # a link planted in the output folder
    result = runner.invoke(cli, ["clean", str(src), "-o", str(out)])
    assert result.exit_code == 3
    assert "output path 'sub/a.txt' resolves outside the output folder; not written" in result.stderr
    assert not (tmp_path / "victim").exists()


def test_a_write_failure_is_a_problem_for_that_file_only(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "in"
    write(src / "a.txt", DUP)
    write(src / "sub" / "b.txt", DUP)
    out = tmp_path / "out"
    write(out / "sub", "a file where a folder should be")
    result = runner.invoke(cli, ["clean", str(src), "-o", str(out), "--scope", "document"])
    assert result.exit_code == 3
    assert f"{out}/sub/b.txt: cannot write: " in result.stderr
    assert (out / "a.txt").read_text(encoding="utf-8") == f"{P1}\n{P2}\n"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_problems_are_reported_in_input_order_for_any_jobs(runner: CliRunner, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch, jobs: str) -> None:
    # Files are written by a thread, and with two jobs reading runs two batches ahead (d is read
    # before c's result is written); the report still lists the problems of reading and of
    # writing in the order of their inputs. One document a batch, so reads and writes interleave.
    real_clean = dedup.pipeline.Deduplicator.clean
    monkeypatch.setattr(dedup.pipeline.Deduplicator, "clean",
                        lambda self, docs, **kw: real_clean(self, docs, **{**kw, "batch_chars": 1}))
    src, out = tmp_path / "in", tmp_path / "out"
    write(src / "a.txt", DUP)
    write(src / "b.txt", b"\xff\xfe\xfa not text \x00\x00")
    write(src / "sub" / "c.txt", DUP)
    write(src / "sub" / "d.txt", b"\x00\x01\x02 binary \x00")
    write(src / "sub" / "e.txt", DUP)
    write(out / "sub", "a file where a folder should be")
    report = tmp_path / "r.jsonl"
    result = runner.invoke(cli, ["clean", str(src), "-o", str(out), "--report", str(report), "--jobs", jobs,
                                 "--scope", "document", "-q"])
    assert result.exit_code == 3
    problems = [r for r in map(json.loads, report.read_text(encoding="utf-8").splitlines()) if r["kind"] == "problem"]
    assert "".join(Path(r["source"]).name[0] for r in problems) == "bcde"
    assert [r["problem"].startswith("cannot write: ") for r in problems] == [False, True, False, True]
    assert (out / "a.txt").read_text(encoding="utf-8") == f"{P1}\n{P2}\n"


def test_in_place_skips_a_file_that_changed_during_the_run(runner: CliRunner, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    a = write(tmp_path / "a.txt", DUP)
    b = write(tmp_path / "b.txt", DUP)
    real_clean = dedup.pipeline.Deduplicator.clean

    def clean_then_edit(self: Any, *args: Any, **kwargs: Any) -> Any:
        results = list(real_clean(self, *args, **kwargs))  # both files read and cleaned
        b.write_text(DUP + "A line someone added meanwhile.\n", encoding="utf-8")
        yield from results

    monkeypatch.setattr(dedup.pipeline.Deduplicator, "clean", clean_then_edit)
    result = runner.invoke(cli, ["clean", str(a), str(b), "--in-place", "--scope", "document"])
    assert result.exit_code == 3
    assert f"{b}: changed or removed during the run; its cleaned copy was not written" in result.stderr
    assert a.read_text(encoding="utf-8") == f"{P1}\n{P2}\n"
    assert b.read_text(encoding="utf-8") == DUP + "A line someone added meanwhile.\n"


def test_in_place_through_a_link_rewrites_the_target_and_keeps_the_link(runner: CliRunner, tmp_path: Path) -> None:
    target = write(tmp_path / "real.txt", DUP)
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    result = runner.invoke(cli, ["clean", str(link), "--in-place", "-q"])
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and target.read_text(encoding="utf-8") == f"{P1}\n{P2}\n"


def test_leftover_temporary_files_are_ignored_and_mentioned(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "in"
    write(src / "a.txt", DUP)
    write(src / ".a.txt.abcd1234.dedup-tmp", P1[:20])
    result = runner.invoke(cli, ["clean", str(src), "--in-place", "--glob", "*"])
    assert result.exit_code == 0, result.stderr
    assert "1 temporary file(s) left by an interrupted run ignored" in result.stderr
    assert (src / "a.txt").read_text(encoding="utf-8") == f"{P1}\n{P2}\n"


# -- output safety ---------------------------------------------------------------------------------

HOSTILE_NAMES = ["\x1b[2J\x1b[31mred.txt", "rtl\u202etxt.exe.txt", "two\nlines.txt", "bell\x07\x9b.txt",
                 "[bold]markup[/bold].txt"]


def test_hostile_file_names_are_shown_escaped(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "in"
    for name in HOSTILE_NAMES:
        write(src / name, b"bad \xff byte\n")
    result = runner.invoke(cli, ["clean", str(src), "-o", str(tmp_path / "out")])
    assert result.exit_code == 3
    err = result.stderr
    for raw in ("\x1b", "\u202e", "\x07", "\x9b"):
        assert raw not in err
    assert "\\x1b[2J\\x1b[31mred.txt:1: not valid UTF-8" in err
    assert "rtl\\u202etxt.exe.txt:1:" in err and "two\\x0alines.txt:1:" in err and "bell\\x07\\x9b.txt:1:" in err
    assert "[bold]markup[/bold].txt:1:" in err  # shown as text, not read as rich markup


def test_undecodable_file_names_do_not_crash_anything(runner: CliRunner, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    raw_name = os.fsencode(src) + b"/caf\xe9-\x1b.txt"
    with open(raw_name, "wb") as fh:
        fh.write(DUP.encode())
    report = tmp_path / "r.jsonl"
    out = tmp_path / "out"
    result = runner.invoke(cli, ["clean", str(src), "-o", str(out), "--report", str(report), "--check"])
    assert result.exit_code == 1, result.stderr
    assert "caf\\udce9-\\x1b.txt" in result.stderr
    (record,) = records(report)  # valid UTF-8 JSON: the undecodable byte is an escape
    assert os.fsencode(record["document"]["id"]).endswith(b"/caf\xe9-\x1b.txt")
    result = runner.invoke(cli, ["clean", str(src), "-o", str(out), "-q"])
    assert result.exit_code == 0 and os.listdir(os.fsencode(out)) == [b"caf\xe9-\x1b.txt"]


def test_report_lines_are_escaped_json_with_or_without_a_lone_surrogate(tmp_path: Path) -> None:
    # the report file is written without the scan for lone surrogates; a line holding one fails
    # the strict UTF-8 encoding, is escaped and written again: the bytes are dumps()'s either way
    result = Deduplicator().run([Document("caf\udce9.txt", DUP), Document("plain.txt", DUP)])
    texts = {d.document.id: d.document.text for d in result.documents}
    path, fingerprint = tmp_path / "r.jsonl", result.settings.fingerprint()
    writer = ReportWriter(str(path), fingerprint)
    for d in result.documents:
        writer.document(d, texts)
    writer.commit()
    want = "".join(dumps(edit_record(d, fingerprint, texts)) + "\n" for d in result.documents)
    assert path.read_bytes() == want.encode("utf-8") and "\\udce9" in want


def test_text_on_a_terminal_is_made_printable_and_exact_elsewhere(runner: CliRunner,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    text = "Title \x1b]0;pwned\x07 here\nAn \u202eevil\u202c line\r\nend\n"
    piped = runner.invoke(cli, ["clean", "-", "-q", "--no-fix"], input=text.encode())
    assert piped.stdout_bytes == text.encode()  # data: exact
    monkeypatch.setattr(dedup.cli, "_stdout_is_terminal", lambda: True)
    shown = runner.invoke(cli, ["clean", "-", "-q", "--no-fix"], input=text.encode())
    assert shown.stdout_bytes == b"Title \\x1b]0;pwned\\x07 here\nAn \\u202eevil\\u202c line\r\nend\n"


def test_json_on_a_terminal_escapes_controls_and_stays_json(runner: CliRunner, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    f = write(tmp_path / "a.txt", f"{P1} \u202e\x9b\n{P2}\n{P1} \u202e\x9b\n")
    monkeypatch.setattr(dedup.cli, "_stdout_is_terminal", lambda: True)
    result = runner.invoke(cli, ["scan", str(f), "-q"])
    assert result.exit_code == 0
    assert "\u202e" not in result.stdout and "\x9b" not in result.stdout and "\\u202e" in result.stdout
    (cluster,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert cluster["canonical"]["text"] == f"{P1} \u202e\x9b"
