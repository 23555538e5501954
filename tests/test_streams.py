"""JSON Lines and Parquet streams: records in, records out, bad records named."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dedup import Deduplicator
from dedup.model import DocumentResult
from dedup.streams import Problems, Record, RecordError, clean_parquet, clean_records, cleaned_record, read_jsonl

P1 = "The council opened a floating library on the old harbour on Saturday, in a former ferry."
P2 = "The ferry will stay moored at the north pier until October, then move to the river mouth."


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_records_are_cleaned_in_order_with_other_fields_unchanged(tmp_path: Path) -> None:
    f = write_lines(tmp_path / "a.jsonl", [
        json.dumps({"id": "x", "text": f"{P1}\n{P2}\n", "url": "https://a", "meta": {"n": 1.5, "tags": [1, 2]}}),
        json.dumps({"text": f"{P2}\n{P1}\n", "id": "y", "lang": "en"}),
    ])
    out = [cleaned_record(r, res, "text") for r, res in clean_records(read_jsonl([str(f)]), Deduplicator())]
    assert out == [
        {"id": "x", "text": f"{P1}\n{P2}\n", "url": "https://a", "meta": {"n": 1.5, "tags": [1, 2]}},
        {"text": "\n", "id": "y", "lang": "en"},
    ]
    assert list(out[0]) == ["id", "text", "url", "meta"]  # field order kept


def test_custom_keys_and_missing_ids(tmp_path: Path) -> None:
    f = write_lines(tmp_path / "a.jsonl", [json.dumps({"body": P1}), json.dumps({"body": P1, "uid": 7})])
    records = list(read_jsonl([str(f)], text_key="body", id_key="uid"))
    assert [r.id for r in records] == [f"{f}:1", "7"]


def test_bad_records_are_named_and_skipped(tmp_path: Path) -> None:
    f = write_lines(tmp_path / "bad.jsonl", [
        json.dumps({"id": 1, "text": P1}),
        "{not json",
        json.dumps([1, 2]),
        json.dumps({"id": 2}),
        json.dumps({"id": 3, "text": 42}),
        json.dumps({"id": 1, "text": P2}),
        "",
        json.dumps({"id": 4, "text": P2}),
    ])
    problems = Problems()
    records = list(read_jsonl([str(f)], problems=problems))
    assert [r.id for r in records] == ["1", "4"]
    assert [(p.line, p.message.split(";")[0]) for p in problems.found] == [
        (2, "not JSON (Expecting property name enclosed in double quotes at column 2)"),
        (3, "not a JSON object (list)"),
        (4, "no 'text' field"),
        (5, "'text' is int, not a string"),
        (6, "duplicate id '1'"),
    ]
    with pytest.raises(RecordError, match=r"bad.jsonl:2: not JSON"):
        list(read_jsonl([str(f)], problems=Problems("fail")))


def test_gzip_zstd_and_folders(tmp_path: Path) -> None:
    import zstandard

    (tmp_path / "d").mkdir()
    with gzip.open(tmp_path / "d" / "a.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "g", "text": P1}) + "\n")
    (tmp_path / "d" / "b.jsonl.zst").write_bytes(
        zstandard.ZstdCompressor().compress((json.dumps({"id": "z", "text": P2}) + "\n").encode()))
    (tmp_path / "d" / "notes.txt").write_text("ignored", encoding="utf-8")
    assert [r.id for r in read_jsonl([str(tmp_path / "d")])] == ["g", "z"]


def test_parquet_round_trip_keeps_the_schema(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table({"id": ["a", "b", "c"], "text": [f"{P1}\n{P2}\n", f"{P2}\n", None], "n": [1, 2, 3]})
    src, dst = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(table, src)
    problems = Problems()
    assert clean_parquet(src, dst, Deduplicator(), problems=problems, batch_rows=2) == 3
    out = pq.read_table(dst)
    assert out.schema == table.schema
    assert out.column("text").to_pylist() == [f"{P1}\n{P2}\n", "\n", None]
    assert out.column("n").to_pylist() == [1, 2, 3]
    assert [(p.line, p.message) for p in problems.found] == [(3, "'text' is null; passed through")]


@pytest.mark.parametrize("jobs", [1, 2])
def test_parquet_rows_go_to_the_engine_as_one_stream_as_json_lines_records_do(tmp_path: Path, jobs: int) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    p3 = "Volunteers will run a reading hour for children every Sunday morning on the upper deck."
    texts: list[str | None] = [f"{P1}\n", None, None, f"{P2}\n{P1}\n", f"{P1}\n{p3}\n", None, f"{p3}\n", f"{P2}\n"]
    ids = [f"r{i}" for i in range(len(texts))]
    src, dst = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pq.write_table(pa.table({"id": ids, "text": texts}), src)  # record batches of 2: one of them all null

    class Counting(Deduplicator):
        calls = 0

        def clean(self, *args: Any, **kwargs: Any) -> Iterator[DocumentResult]:
            Counting.calls += 1
            return super().clean(*args, **kwargs)

    seen: list[str] = []
    engine = Counting()
    assert clean_parquet(src, dst, engine, batch_rows=2, jobs=jobs, on_result=lambda r, _: seen.append(r.id)) == 8
    assert Counting.calls == 1  # one stream, so one pool of workers with jobs
    kept = [(i, t) for i, t in zip(ids, texts, strict=True) if t is not None]
    records = [Record("x", n, i, {"text": t}) for n, (i, t) in enumerate(kept, 1)]
    expected = {r.id: res.cleaned for r, res in clean_records(records, Deduplicator())}
    assert seen == [i for i, _ in kept]
    assert pq.read_table(dst).column("text").to_pylist() == [expected.get(i) for i in ids]
    assert pq.read_table(dst).column("text").to_pylist()[3] == f"{P2}\n"  # its P1 went
