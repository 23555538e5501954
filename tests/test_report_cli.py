"""``dedup report`` through the command line: formats, stdout or a file, --doc, and exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dedup.cli import cli

P1 = "The council opened a floating library on the old harbour on Saturday, in a former ferry."
P2 = "The ferry will stay moored at the north pier until October, then move to the river mouth."


def invoke(*args: str | Path, stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], input=stdin)


@pytest.fixture
def edits(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(f"{P1}\n{P2}\n{P1}\n", encoding="utf-8")
    (src / "[bold red]b[x].txt").write_text(f"{P2}\n", encoding="utf-8")
    report = tmp_path / "edits.jsonl"
    assert invoke("clean", src, "-o", tmp_path / "out", "--report", report, "-q").exit_code == 0
    return report


@pytest.mark.parametrize(("fmt", "expected"), [
    ("md", "# dedup report"),
    ("html", "<!doctype html>"),
    ("diff", "diff --git a/"),
    ("term", "dedup report"),
])
def test_each_format_goes_to_stdout(edits: Path, fmt: str, expected: str) -> None:
    result = invoke("report", edits, "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(expected) and result.stderr == ""


def test_markdown_is_the_default_and_o_writes_a_file(edits: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.md"
    result = invoke("report", edits, "-o", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8").startswith("# dedup report")
    assert f"wrote {out}" in result.stderr


def test_doc_shows_one_document(edits: Path) -> None:
    doc_id = f"{edits.parent / 'in'}/a.txt"
    result = invoke("report", edits, "--format", "term", "--doc", doc_id)
    assert result.exit_code == 0
    assert "2 edit(s)" in result.stdout and "removed" in result.stdout and "kept" in result.stdout
    diff = invoke("report", edits, "--format", "diff", "--doc", doc_id).stdout
    assert diff.count("diff --git") == 1


def test_an_unknown_doc_is_a_usage_error(edits: Path) -> None:
    result = invoke("report", edits, "--doc", "nope.txt")
    assert result.exit_code == 2 and "no record in" in result.stderr and result.stdout == ""


def test_edits_from_stdin(edits: Path) -> None:
    result = invoke("report", "-", "--format", "md", stdin=edits.read_bytes())
    assert result.exit_code == 0 and "| documents | 2 (1 changed) |" in result.stdout


def test_bad_lines_are_named_and_the_rest_reported(edits: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.jsonl"
    broken.write_text(edits.read_text(encoding="utf-8") + "not json\n", encoding="utf-8")
    result = invoke("report", broken)
    assert result.exit_code == 3
    assert f"{broken}:3: not JSON" in result.stderr.replace("\n", "")
    assert "| documents | 2 (1 changed) |" in result.stdout


def test_a_missing_edits_file_exits_3(tmp_path: Path) -> None:
    result = invoke("report", tmp_path / "nope.jsonl")
    assert result.exit_code == 3 and "nope.jsonl" in result.stderr


def test_help_lists_the_commands() -> None:
    text = invoke("--help").stdout
    assert "report" in text and "restore" in text
    assert "--format" in invoke("report", "--help").stdout
