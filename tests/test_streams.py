"""JSON Lines and Parquet streams: records in, records out, bad records named."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from dedup import Deduplicator
from dedup.streams import Problems, RecordError, clean_parquet, clean_records, cleaned_record, read_jsonl

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
