"""The command line for record streams, the persistent index and worker processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import check_records

import dedup.pipeline
from dedup.cli import cli

P1 = "The council opened a floating library on the old harbour on Saturday, in a former ferry."
P2 = "The ferry will stay moored at the north pier until October, then move to the river mouth."
P3 = "About eighty visitors fit in the reading room, which has a lift for wheelchair users too."


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_jsonl_to_stdout_keeps_fields_and_order(runner: CliRunner, tmp_path: Path) -> None:
    f = jsonl(tmp_path / "in.jsonl", [
        {"id": "a", "text": f"{P1}\n{P2}\n", "url": "u1"},
        {"id": "b", "text": f"{P3}\n{P1}\n", "url": "u2", "n": 3},
    ])
    result = runner.invoke(cli, ["clean", str(f), "-q"])
    assert result.exit_code == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows == [{"id": "a", "text": f"{P1}\n{P2}\n", "url": "u1"},
                    {"id": "b", "text": f"{P3}\n", "url": "u2", "n": 3}]


def test_jsonl_from_stdin_with_custom_keys_to_a_file_with_a_report(runner: CliRunner, tmp_path: Path) -> None:
    data = "".join(json.dumps({"uid": i, "body": t}) + "\n" for i, t in enumerate([P1, f"{P2}\n{P1}"]))
    out, report = tmp_path / "out.jsonl", tmp_path / "edits.jsonl"
    result = runner.invoke(cli, ["clean", "-", "--jsonl", "--text-key", "body", "--id-key", "uid", "-o", str(out),
                                 "--report", str(report), "-q"], input=data.encode())
    assert result.exit_code == 0, result.stderr
    assert [json.loads(x)["body"] for x in out.read_text(encoding="utf-8").splitlines()] == [P1, P2]
    records = [json.loads(x) for x in report.read_text(encoding="utf-8").splitlines()]
    check_records(records)
    assert [r["document"]["id"] for r in records] == ["0", "1"]
    assert records[1]["edits"][0]["kept"][0]["text"] == P1


def test_bad_records_are_named_skipped_and_exit_3(runner: CliRunner, tmp_path: Path) -> None:
    f = tmp_path / "in.jsonl"
    f.write_text(json.dumps({"id": "a", "text": P1}) + "\n{oops\n" + json.dumps({"id": "b"}) + "\n", encoding="utf-8")
    result = runner.invoke(cli, ["clean", str(f)])
    assert result.exit_code == 3
    assert f"{f}:2: not JSON" in result.stderr and f"{f}:3: no 'text' field" in result.stderr
    assert [json.loads(x)["id"] for x in result.stdout.splitlines()] == ["a"]
    failing = runner.invoke(cli, ["clean", str(f), "--on-error", "fail", "-o", str(tmp_path / "o.jsonl")])
    assert failing.exit_code == 3 and not (tmp_path / "o.jsonl").exists()


def test_parquet_in_and_out(runner: CliRunner, tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    src, dst = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "text": [f"{P1}\n", f"{P2}\n{P1}\n"], "lang": ["en", "en"]}), src)
    result = runner.invoke(cli, ["clean", str(src), "-o", str(dst), "-q"])
    assert result.exit_code == 0, result.stderr
    out = pq.read_table(dst)
    assert out.column("text").to_pylist() == [f"{P1}\n", f"{P2}\n"] and out.column("lang").to_pylist() == ["en"] * 2
    assert runner.invoke(cli, ["clean", str(src)]).exit_code == 2  # needs -o


def test_index_remembers_across_runs_and_refuses_other_settings(runner: CliRunner, tmp_path: Path) -> None:
    index = tmp_path / "seen.sqlite"
    day1, day2 = tmp_path / "day1", tmp_path / "day2"
    day1.mkdir()
    day2.mkdir()
    (day1 / "a.txt").write_text(f"{P1}\n{P2}\n", encoding="utf-8")
    (day2 / "b.txt").write_text(f"{P3}\n{P1}\n", encoding="utf-8")
    first = runner.invoke(cli, ["clean", str(day1), "-o", str(tmp_path / "o1"), "--index", str(index), "-q"])
    assert first.exit_code == 0, first.stderr
    second = runner.invoke(cli, ["clean", str(day2), "-o", str(tmp_path / "o2"), "--index", str(index), "-q"])
    assert second.exit_code == 0, second.stderr
    assert (tmp_path / "o2" / "b.txt").read_text(encoding="utf-8") == f"{P3}\n"
    stats = json.loads(runner.invoke(cli, ["index", "stats", str(index)]).stdout)
    assert (stats["documents"], stats["paragraphs"], stats["removed_paragraphs"], stats["batches"]) == (2, 4, 1, 2)
    other = runner.invoke(cli, ["clean", str(day2), "--check", "--index", str(index), "--num-perm", "64"])
    assert other.exit_code == 3 and "was built with other settings (num_perm: index 128, this run 64" in other.stderr


def test_index_stats_of_something_else_is_exit_3(runner: CliRunner, tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"not a database")
    result = runner.invoke(cli, ["index", "stats", str(junk)])
    assert result.exit_code == 3 and "not a dedup index" in result.stderr


def test_jobs_do_not_change_the_output(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # batches of about 2,000 characters, so that --jobs 2 starts its workers (one small batch
    # would be cleaned in the main process)
    real_clean = dedup.pipeline.Deduplicator.clean
    monkeypatch.setattr(dedup.pipeline.Deduplicator, "clean",
                        lambda self, docs, **kw: real_clean(self, docs, **{**kw, "batch_chars": 2000}))
    src = tmp_path / "in"
    src.mkdir()
    for i in range(30):
        (src / f"{i:02d}.txt").write_text(f"{P1 if i % 2 else P2}\nLine {i} of its own, long enough to stand.\n{P3}\n",
                                          encoding="utf-8")
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out{jobs}"
        report = tmp_path / f"edits{jobs}.jsonl"
        result = runner.invoke(cli, ["clean", str(src), "-o", str(out), "--report", str(report), "--jobs", jobs, "-q"])
        assert result.exit_code == 0, result.stderr
        outs.append(({p.name: p.read_bytes() for p in out.iterdir()}, report.read_bytes()))
    assert outs[0] == outs[1]
