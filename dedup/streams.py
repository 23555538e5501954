"""Records in, records out: JSON Lines and Parquet streams, cleaned lazily batch by batch.

A record is a JSON object (or a Parquet row) whose text field is cleaned; every other field passes
through unchanged and records come out in input order. Memory holds the index and one batch,
never the whole stream. Bad records (a line that is not JSON, a record without the text field,
text that is not a string, a repeated id) are reported with their file and line and either
skipped (``on_error="skip"``) or fatal (``"fail"``); none is dropped silently.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from dedup.model import Document, DocumentResult, Problem
from dedup.pipeline import Deduplicator

SKIP = "skip"
FAIL = "fail"
ON_ERROR = (SKIP, FAIL)
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".ndjson")


class RecordError(Exception):
    """A bad record with ``on_error="fail"``; carries the problem (file and line)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@dataclass
class Problems:
    """Collects the problems of a stream and applies the ``on_error`` policy."""

    on_error: str = SKIP
    on_problem: Callable[[Problem], None] | None = None  # told of each problem as it is found
    found: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.on_error not in ON_ERROR:
            raise ValueError(f"on_error must be one of {', '.join(ON_ERROR)}, got {self.on_error!r}")

    def add(self, problem: Problem) -> None:
        self.found.append(problem)
        if self.on_problem is not None:
            self.on_problem(problem)
        if self.on_error == FAIL:
            raise RecordError(problem)


@dataclass(frozen=True, slots=True)
class Record:
    """A parsed input record: where it came from, its id, and its fields."""

    source: str
    line: int
    id: str
    fields: dict[str, Any]


def open_text(path: str) -> IO[str]:
    """A text stream over a file, gunzipped or zstd-decoded by extension; ``-`` is stdin."""
    if path == "-":
        import sys

        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", newline="")
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    if path.endswith(".zst"):
        try:
            import zstandard
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise RecordError(Problem(path, "reading .zst needs the zstandard package: pip install 'dedup[zstd]'")) \
                from exc
        raw = open(path, "rb")  # noqa: SIM115 - handed to the stream reader, closed with it
        return io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(raw, closefd=True), encoding="utf-8",
                                newline="")
    return open(path, encoding="utf-8", newline="")


def jsonl_files(paths: Iterable[str]) -> list[str]:
    """Files named directly, and the JSON Lines files of folders (recursively, sorted)."""
    out: list[str] = []
    for p in paths:
        if p != "-" and os.path.isdir(p):
            found: list[str] = []
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames.sort()
                found.extend(os.path.join(dirpath, f) for f in filenames if f.endswith(JSONL_SUFFIXES))
            out.extend(sorted(found))
        else:
            out.append(p)
    return out


def read_jsonl(paths: Iterable[str], text_key: str = "text", id_key: str = "id",
               problems: Problems | None = None) -> Iterator[Record]:
    """Parse records from JSON Lines files, checking each; bad ones go to ``problems``.

    A record without ``id_key`` gets ``FILE:LINE`` as its id. Ids must be unique across the
    whole input (the report and the index identify documents by id).
    """
    problems = problems if problems is not None else Problems()
    seen: set[str] = set()
    for path in jsonl_files(paths):
        source = "<stdin>" if path == "-" else path
        try:
            stream = open_text(path)
        except OSError as exc:
            problems.add(Problem(source, exc.strerror or str(exc)))
            continue
        with stream:
            line = 0
            try:
                for raw in stream:
                    line += 1
                    record = _parse(raw, source, line, text_key, id_key, problems)
                    if record is None:
                        continue
                    if record.id in seen:
                        problems.add(Problem(source, f"duplicate id {record.id!r}; skipped", line))
                        continue
                    seen.add(record.id)
                    yield record
            except (UnicodeDecodeError, OSError, EOFError) as exc:
                problems.add(Problem(source, f"unreadable after line {line}: {exc}", line + 1))


def _parse(raw: str, source: str, line: int, text_key: str, id_key: str, problems: Problems) -> Record | None:
    if not raw.strip():
        return None  # blank lines are not records
    try:
        fields = json.loads(raw)
    except json.JSONDecodeError as exc:
        problems.add(Problem(source, f"not JSON ({exc.msg} at column {exc.colno}); skipped", line))
        return None
    if not isinstance(fields, dict):
        problems.add(Problem(source, f"not a JSON object ({type(fields).__name__}); skipped", line))
        return None
    if text_key not in fields:
        problems.add(Problem(source, f"no {text_key!r} field; skipped", line))
        return None
    if not isinstance(fields[text_key], str):
        problems.add(Problem(source, f"{text_key!r} is {type(fields[text_key]).__name__}, not a string; skipped",
                             line))
        return None
    rid = fields.get(id_key)
    doc_id = f"{source}:{line}" if rid is None else str(rid)
    return Record(source, line, doc_id, fields)


def clean_records(records: Iterable[Record], dedup: Deduplicator, text_key: str = "text",
                  progress: Callable[[str, int, int], None] | None = None,
                  batch_chars: int | None = None, jobs: int = 1) -> Iterator[tuple[Record, DocumentResult]]:
    """Clean records lazily, in input order: yields each record with its result."""
    pending: deque[Record] = deque()

    def documents() -> Iterator[Document]:
        for r in records:
            pending.append(r)
            yield Document(r.id, r.fields[text_key], r.source)

    kwargs: dict[str, Any] = {"jobs": jobs}
    if batch_chars is not None:
        kwargs["batch_chars"] = batch_chars
    for result in dedup.clean(documents(), progress=progress, **kwargs):
        yield pending.popleft(), result


def cleaned_record(record: Record, result: DocumentResult, text_key: str) -> dict[str, Any]:
    """The record with its text replaced by the cleaned text, every other field as it was."""
    out = dict(record.fields)
    out[text_key] = result.cleaned
    return out


def write_jsonl(stream: IO[str], rows: Iterable[dict[str, Any]]) -> int:
    n = 0
    for row in rows:
        stream.write(json.dumps(row, ensure_ascii=False) + "\n")
        n += 1
    return n


# -- Parquet ---------------------------------------------------------------------------------------


def _pyarrow() -> Any:
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RecordError(Problem("parquet", "Parquet needs pyarrow: pip install 'dedup[parquet]'")) from exc
    return pyarrow


@dataclass(slots=True)
class _RecordBatch:
    """A Parquet record batch read but not yet written: its text column, to be filled with the
    cleaned texts of its kept rows (``keep``) as their results come; ``done`` of them so far."""

    batch: Any
    cleaned: list[str | None]
    keep: list[int]
    done: int = 0


def clean_parquet(source: str | Path, target: str | Path, dedup: Deduplicator, text_key: str = "text",
                  id_key: str = "id", problems: Problems | None = None, batch_rows: int = 8192,
                  on_result: Callable[[Record, DocumentResult], None] | None = None, jobs: int = 1) -> int:
    """Clean the text column of a Parquet file into ``target`` (same schema), streamed in record
    batches; returns the number of rows. Rows whose text is null are passed through and reported.
    The rows of all record batches go to the engine as one stream (one pool of workers with
    ``jobs``, the same batches as the same records in JSON Lines); each record batch is written
    once the results of its rows are in."""
    pa = _pyarrow()
    problems = problems if problems is not None else Problems()
    src = str(source)
    reader = pa.parquet.ParquetFile(src)
    schema = reader.schema_arrow
    if text_key not in schema.names:
        raise RecordError(Problem(src, f"no {text_key!r} column (columns: {', '.join(schema.names)})"))
    if not pa.types.is_string(schema.field(text_key).type) and not pa.types.is_large_string(
            schema.field(text_key).type):
        raise RecordError(Problem(src, f"column {text_key!r} is {schema.field(text_key).type}, not a string"))
    position = schema.get_field_index(text_key)
    rows = 0
    waiting: deque[_RecordBatch] = deque()  # read, in order, not yet written

    def records() -> Iterator[Record]:
        nonlocal rows
        seen: set[str] = set()
        for batch in reader.iter_batches(batch_size=batch_rows):
            texts = batch.column(text_key).to_pylist()
            ids = batch.column(id_key).to_pylist() if id_key in batch.schema.names else [None] * len(texts)
            found: list[Record] = []
            keep: list[int] = []
            for i, (text, rid) in enumerate(zip(texts, ids, strict=True)):
                row = rows + i + 1
                doc_id = f"{src}:{row}" if rid is None else str(rid)
                if text is None:
                    problems.add(Problem(src, f"{text_key!r} is null; passed through", row))
                    continue
                if doc_id in seen:
                    problems.add(Problem(src, f"duplicate id {doc_id!r}; passed through", row))
                    continue
                seen.add(doc_id)
                found.append(Record(src, row, doc_id, {text_key: text}))
                keep.append(i)
            waiting.append(_RecordBatch(batch, texts, keep))
            rows += len(texts)
            yield from found

    with pa.parquet.ParquetWriter(str(target), schema) as writer:

        def write_finished() -> None:
            while waiting and waiting[0].done == len(waiting[0].keep):
                done = waiting.popleft()
                column = pa.array(done.cleaned, type=schema.field(text_key).type)
                writer.write_batch(done.batch.set_column(position, schema.field(text_key), column))

        for record, result in clean_records(records(), dedup, text_key, jobs=jobs):
            write_finished()  # results come in row order: this one belongs to the first batch left
            head = waiting[0]
            head.cleaned[head.keep[head.done]] = result.cleaned
            head.done += 1
            if on_result is not None:
                on_result(record, result)
        write_finished()
    if waiting:
        raise RuntimeError(f"{src}: {len(waiting)} record batches still wait for results")
    return rows
