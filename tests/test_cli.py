"""The command line through click's CliRunner: stdout, stderr and exit codes checked separately."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import check_records

from dedup.cli import cli

P1 = "The council opened a floating library on the old harbour on Saturday, in a former ferry."
P2 = "The ferry will stay moored at the north pier until October, then move to the river mouth."
DUP = f"{P1}\n{P2}\n{P1}\n"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_stdin_to_stdout(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["clean", "-", "-q"], input=DUP.encode())
    assert result.exit_code == 0
    assert result.stdout == f"{P1}\n{P2}\n"
    assert result.stderr == ""


def test_one_file_to_stdout_with_summary_on_stderr(runner: CliRunner, tmp_path: Path) -> None:
    f = write(tmp_path / "a.txt", DUP)
    result = runner.invoke(cli, ["clean", str(f)])
    assert result.exit_code == 0
    assert result.stdout == f"{P1}\n{P2}\n"
    assert "removed" in result.stderr and "exact 1" in result.stderr
    assert f.read_text(encoding="utf-8") == DUP  # the input is never touched


def test_folder_to_output_dir_keeps_relative_paths(runner: CliRunner, tmp_path: Path) -> None:
    write(tmp_path / "in" / "a.txt", f"{P1}\n")
    write(tmp_path / "in" / "sub" / "b.txt", f"{P2}\n{P1}\n")
    write(tmp_path / "in" / "notes.md", f"{P1}\n")  # not matched by the default glob
    out = tmp_path / "out"
    result = runner.invoke(cli, ["clean", str(tmp_path / "in"), "-o", str(out), "-q"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert (out / "a.txt").read_text(encoding="utf-8") == f"{P1}\n"
    assert (out / "sub" / "b.txt").read_text(encoding="utf-8") == f"{P2}\n"
    assert not (out / "notes.md").exists()


def test_glob_selects_other_files(runner: CliRunner, tmp_path: Path) -> None:
    write(tmp_path / "in" / "a.md", DUP)
    result = runner.invoke(cli, ["clean", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--glob", "*.md", "-q"])
    assert result.exit_code == 0
    assert (tmp_path / "out" / "a.md").read_text(encoding="utf-8") == f"{P1}\n{P2}\n"


def test_in_place_rewrites_only_changed_files(runner: CliRunner, tmp_path: Path) -> None:
    a = write(tmp_path / "a.txt", DUP)
    b = write(tmp_path / "b.txt", f"{P2}\n")
    before = b.stat().st_mtime_ns
    result = runner.invoke(cli, ["clean", str(a), str(b), "--in-place", "-q", "--scope", "document"])
    assert result.exit_code == 0
    assert a.read_text(encoding="utf-8") == f"{P1}\n{P2}\n"
    assert b.stat().st_mtime_ns == before
    assert not list(tmp_path.glob(".*dedup-tmp"))


def test_check_writes_nothing_and_exits_1_on_changes(runner: CliRunner, tmp_path: Path) -> None:
    a = write(tmp_path / "a.txt", DUP)
    result = runner.invoke(cli, ["clean", str(a), "--check"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"would clean {a}" in result.stderr
    assert a.read_text(encoding="utf-8") == DUP
    clean = write(tmp_path / "b.txt", f"{P1}\n")
    assert runner.invoke(cli, ["clean", str(clean), "--check", "-q"]).exit_code == 0


def test_report_is_one_json_object_per_document(runner: CliRunner, tmp_path: Path) -> None:
    write(tmp_path / "in" / "a.txt", DUP)
    write(tmp_path / "in" / "b.txt", "Nothing repeated here.\n")
    report = tmp_path / "edits.jsonl"
    args = ["clean", str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--report", str(report), "-q"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0
    records = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    assert [r["document"]["id"].rsplit("/", 1)[1] for r in records] == ["a.txt", "b.txt"]
    (edit,) = records[0]["edits"]
    assert edit["op"] == "remove" and edit["rule"] == "exact" and edit["kept"][0]["index"] == 0
    assert edit["old"] == "\n" + P1 and records[1]["edits"] == []


@pytest.mark.parametrize("mode", ["-o", "--in-place"])
def test_report_hashes_are_those_of_the_bytes_read_and_written(runner: CliRunner, tmp_path: Path, mode: str) -> None:
    # a changed text is encoded once, for its hash and its file: both must be the file's bytes
    texts = {"a.txt": DUP.replace("harbour", "harbour \u00e9t\u00e9 \u6e2f"), "b.txt": "Nothing repeated here.\n"}
    inputs = {name: write(tmp_path / "in" / name, text).read_bytes() for name, text in texts.items()}
    report = tmp_path / "edits.jsonl"
    target = ["-o", str(tmp_path / "out")] if mode == "-o" else ["--in-place"]
    result = runner.invoke(cli, ["clean", str(tmp_path / "in"), *target, "--report", str(report), "-q"])
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "out" if mode == "-o" else tmp_path / "in"
    for line in report.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        name = record["document"]["id"].rsplit("/", 1)[1]
        written = (out / name).read_bytes() if (out / name).exists() else inputs[name]
        assert record["input"]["sha256"] == "sha256:" + hashlib.sha256(inputs[name]).hexdigest()
        assert record["output"]["sha256"] == "sha256:" + hashlib.sha256(written).hexdigest()
        assert (record["edits"] != []) == (name == "a.txt")
    assert (out / "a.txt").read_text(encoding="utf-8") == texts["a.txt"].split("\n")[0] + "\n" + P2 + "\n"


def test_report_to_stdout_when_text_goes_to_files(runner: CliRunner, tmp_path: Path) -> None:
    f = write(tmp_path / "a.txt", DUP)
    result = runner.invoke(cli, ["clean", str(f), "-o", str(tmp_path / "out"), "--report", "-", "-q"])
    assert result.exit_code == 0
    (record,) = check_records(result.stdout)
    assert record["paragraphs"] == 3


@pytest.mark.parametrize("args", [
    ["clean"],
    ["clean", "a.txt", "b.txt"],
    ["clean", "-", "--in-place"],
    ["clean", "x", "-o", "out", "--in-place"],
    ["clean", "-", "--report", "-"],
    ["clean", "-", "--threshold", "2"],
    ["clean", "-", "--keep", "last"],
    ["nope"],
])
def test_usage_errors_exit_2(runner: CliRunner, args: list[str]) -> None:
    result = runner.invoke(cli, args, input=b"")
    assert result.exit_code == 2
    assert result.stdout == ""


def test_a_folder_without_output_is_a_usage_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["clean", str(tmp_path)])
    assert result.exit_code == 2 and "give -o DIR" in result.stderr


def test_bad_inputs_are_named_and_the_rest_is_processed(runner: CliRunner, tmp_path: Path) -> None:
    write(tmp_path / "in" / "a.txt", DUP)
    write(tmp_path / "in" / "bad.txt", b"caf\xe9\nline two\n")
    write(tmp_path / "in" / "bin.txt", b"PK\x03\x04\x00\x00")
    write(tmp_path / "in" / "empty.txt", "")
    out = tmp_path / "out"
    result = runner.invoke(cli, ["clean", str(tmp_path / "in"), str(tmp_path / "missing"), "-o", str(out)])
    assert result.exit_code == 3
    assert "bad.txt:1: not valid UTF-8 (byte 0xe9 at offset 3)" in result.stderr
    assert "bin.txt:1: binary file (NUL byte at offset 4)" in result.stderr
    assert "missing: No such file or directory" in result.stderr
    assert (out / "a.txt").read_text(encoding="utf-8") == f"{P1}\n{P2}\n"
    assert (out / "empty.txt").read_text(encoding="utf-8") == ""
    assert not (out / "bad.txt").exists()


def test_output_collisions_are_refused(runner: CliRunner, tmp_path: Path) -> None:
    a = write(tmp_path / "x" / "a.txt", P1)
    b = write(tmp_path / "y" / "a.txt", P2)
    result = runner.invoke(cli, ["clean", str(a), str(b), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "would both be written to a.txt" in result.stderr


def test_scan_writes_clusters_and_changes_nothing(runner: CliRunner, tmp_path: Path) -> None:
    f = write(tmp_path / "a.txt", DUP + "Summary\nSummary\n")
    result = runner.invoke(cli, ["scan", str(f), "-q"])
    assert result.exit_code == 0
    clusters = [json.loads(line) for line in result.stdout.splitlines()]
    assert [c["size"] for c in clusters] == [2, 2]
    assert clusters[0]["canonical"]["text"] == P1
    assert [m["status"] for m in clusters[1]["members"]] == ["canonical", "kept"]
    assert "shorter than min_chars" in clusters[1]["members"][1]["reason"]
    assert f.read_text(encoding="utf-8") == DUP + "Summary\nSummary\n"


def test_scraped_text_is_not_rich_markup(runner: CliRunner, tmp_path: Path) -> None:
    f = write(tmp_path / "[bold red]x[/].txt", DUP)
    result = runner.invoke(cli, ["clean", str(f), "--check"])
    assert "[bold red]x[/].txt" in result.stderr


def test_options_change_the_result(runner: CliRunner) -> None:
    text = "Summary\nSummary\n"
    assert runner.invoke(cli, ["clean", "-", "-q"], input=text.encode()).stdout == text
    out = runner.invoke(cli, ["clean", "-", "-q", "--min-chars", "3"], input=text.encode()).stdout
    assert out == "Summary\n"


def test_version_and_help(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["--version"]).stdout.startswith("dedup, version ")
    help_text = runner.invoke(cli, ["clean", "--help"]).stdout
    for option in ("--threshold", "--num-perm", "--min-chars", "--scope", "--keep", "--report", "--check"):
        assert option in help_text


def test_commands_run_with_the_tuned_collector_and_restore_it(runner: CliRunner,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from dedup import pipeline

    seen: list[tuple[int, int, int]] = []
    original = pipeline.Deduplicator.clean

    def clean(self: pipeline.Deduplicator, *args: Any, **kwargs: Any) -> Any:
        seen.append(gc.get_threshold())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pipeline.Deduplicator, "clean", clean)
    before = gc.get_threshold()
    result = runner.invoke(cli, ["clean", "-", "-q"], input=DUP.encode())
    assert result.exit_code == 0
    assert result.stdout == f"{P1}\n{P2}\n"
    assert seen == [pipeline.COLLECTOR_THRESHOLDS]
    assert gc.get_threshold() == before
