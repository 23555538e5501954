"""``dedup clean|scan --engine spark``: inputs in, the embedded engine's outputs out, cleaned on Spark.

Text files, folders and ``-`` are read on the driver exactly as the embedded engine reads them
(``dedup.readers``: ids, the sorted folder walk, ``--glob``, problems) and cleaned in id order.

JSON Lines (``.jsonl``, ``.jsonl.gz``, ``.ndjson``) and Parquet (``.parquet``) files named on the
command line are records, read by Spark and cleaned in input order (file by file, line by line or
row by row) with the semantics of ``dedup.streams``: the text field is cleaned, every other field
passes through as it was, bad records are reported with their file and line. JSON Lines are
read as text (``spark.read.text``) and each line parsed with the embedded parser rather than
with ``spark.read.json``, whose inferred schema reorders and retypes the fields and loses line
numbers; Parquet is read with ``spark.read.parquet`` and its ``row_index``. Cleaned records
are written to ``-o DIR`` under each input's file name (or stdout, or the input itself with
``--in-place``) in input order, with the same field order and JSON formatting as the embedded
engine.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from dedup.apply import restore
from dedup.model import Document, DocumentResult, Problem
from dedup.pipeline import Result
from dedup.readers import STDIN, Input, Loaded, discover, read_inputs
from dedup.render.jsonl import dumps, problem_record
from dedup.settings import Settings
from dedup.spark import (
    Messages,
    SparkRun,
    _add,
    _arrow_schema,
    _batch,
    _frame,
    _to_arrow,
    result_from_record,
    run_dataframe,
    session,
)
from dedup.streams import JSONL_SUFFIXES, Problems, _parse
from dedup.writers import write_atomic

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

TEXT_KEY = "text"
ID_KEY = "id"
PARQUET_SUFFIXES = (".parquet",)
# Records are ordered by file, then line or row: (file << _ROW_BITS) | row.
_ROW_BITS = 40


class UsageError(ValueError):
    """Inputs or options the Spark engine cannot take (the CLI reports it as a usage error)."""


@dataclass(frozen=True, slots=True)
class _RecordFile:
    path: str
    kind: str  # "jsonl" | "parquet"


def _kind(path: str) -> str | None:
    if path == STDIN or os.path.isdir(path):
        return None
    if path.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if path.endswith(PARQUET_SUFFIXES):
        return "parquet"
    return None


def clean_inputs(inputs: Sequence[str], settings: Settings, *, pattern: str, output: str | None, mode: str,
                 in_place: bool, check: bool, report_path: str | None, master: str,
                 messages: Messages) -> tuple[Result, list[Problem]]:
    """Clean ``inputs`` on Spark and write what ``dedup clean`` writes; return the results and
    the problems. ``mode``: "text" (files and folders), "jsonl" or "parquet" (record files, the
    cleaned records written to ``output`` or stdout as one stream, like the embedded engine)."""
    if mode != "text":
        kind = "parquet" if mode == "parquet" else "jsonl"
        return _clean_records([_RecordFile(p, kind) for p in inputs], settings, output=output, check=check,
                              report_path=report_path, master=master, messages=messages)
    output_dir = output
    loaded, problems = _load(inputs, pattern, messages)
    if output_dir:
        _check_collisions([(item.input.relpath, item.input.id) for item in loaded])
    _, results = _run_documents(loaded, settings, master)
    by_id = {r.document.id: (r, line) for r, line in results}
    for item in loaded:
        result, _ = by_id[item.document.id]
        cleaned = result.cleaned.encode("utf-8")
        if check:
            if result.changed:
                messages.info(f"would clean {item.input.id} ({len(result.edits)} paragraph(s))")
        elif in_place:
            if result.changed:
                write_atomic(item.input.path, cleaned)
        elif output_dir:
            write_atomic(Path(output_dir) / item.input.relpath, cleaned)
        else:
            _stdout(cleaned)
    _report(report_path, [line for _, line in results], problems)
    return Result(settings, tuple(r for r, _ in results), ()), problems


def scan_inputs(inputs: Sequence[str], settings: Settings, *, pattern: str, master: str,
                messages: Messages) -> tuple[Result, list[Problem]]:
    """The clusters of text ``inputs``, computed on Spark (``Result.clusters``)."""
    if any(_kind(p) for p in inputs):
        raise UsageError("scan --engine spark takes text files and folders")
    loaded, problems = _load(inputs, pattern, messages)
    run, results = _run_documents(loaded, settings, master)
    clusters = run.cluster_list() if run is not None else ()
    return Result(settings, tuple(r for r, _ in results), clusters), problems


# -- text documents ------------------------------------------------------------------------------


def _load(inputs: Sequence[str], pattern: str, messages: Messages) -> tuple[list[Loaded], list[Problem]]:
    """The embedded CLI's reading: discover, one input per id, read and decode; problems named."""
    found, problems = discover(inputs, pattern)
    unique: dict[str, Input] = {}
    for item in found:
        unique.setdefault(item.id, item)
    loaded, read_problems = read_inputs(unique.values(), stdin=sys.stdin.buffer)
    problems.extend(read_problems)
    for p in problems:
        messages.problem(p)
    return loaded, problems


def _check_collisions(targets: Sequence[tuple[str, str]]) -> None:
    seen: dict[str, str] = {}
    for relpath, doc_id in targets:
        other = seen.setdefault(relpath, doc_id)
        if other != doc_id:
            raise UsageError(f"{other} and {doc_id} would both be written to {relpath}")


def _run_documents(loaded: Sequence[Loaded], settings: Settings,
                   master: str) -> tuple[SparkRun | None, list[tuple[DocumentResult, str]]]:
    if not loaded:
        return None, []
    spark = session(master, quiet=True)
    docs = [item.document for item in loaded]
    df = _frame(spark, {"id": [d.id for d in docs], "text": [d.text for d in docs],
                        "source": [d.source for d in docs]}, "id string, text string, source string")
    run = run_dataframe(df, "id", "text", settings, source_col="source")
    return run, collect_results(run, "id", "source")


def collect_results(run: SparkRun, id_col: str, source_col: str | None) -> list[tuple[DocumentResult, str]]:
    """Every document's result (rebuilt from its record; the input text restored from the cleaned
    text and the edits) and its record line, in run order."""
    from pyspark.sql import functions as F

    source = F.col(source_col).cast("string") if source_col else F.lit(None).cast("string")
    table = _to_arrow(run.output.where(F.col("_dd_record").isNotNull()).select(
        "_dd_doc", F.col(id_col).cast("string").alias("id"), source.alias("source"),
        F.col(run.text_col).alias("cleaned"), "_dd_record", "_dd_content"))
    rows = sorted(table.to_pylist(), key=lambda r: r["_dd_doc"])
    out: list[tuple[DocumentResult, str]] = []
    for row in rows:
        record = json.loads(row["_dd_record"])
        draft = result_from_record(record, Document(row["id"], "", row["source"]), row["cleaned"], row["_dd_content"])
        text = restore(row["cleaned"], draft.edits)
        doc = Document(row["id"], text, row["source"])
        out.append((result_from_record(record, doc, row["cleaned"], row["_dd_content"]), row["_dd_record"]))
    return out


def _stdout(data: bytes) -> None:
    out = sys.stdout.buffer
    out.write(data)
    out.flush()


def _report(report_path: str | None, lines: Sequence[str], problems: Sequence[Problem]) -> None:
    if not report_path:
        return
    data = "".join(f"{line}\n" for line in [*lines, *(dumps(problem_record(p)) for p in problems)]).encode("utf-8")
    if report_path == STDIN:
        _stdout(data)
    else:
        write_atomic(report_path, data)


# -- records: JSON Lines and Parquet -------------------------------------------------------------

# One row per input line (JSON Lines) or row (Parquet): its place, and the record or its problem.
RECORDS = ("order long, fidx long, line long, ok boolean, id string, text string, raw string, "
           "problem string, source string")


def _clean_records(files: Sequence[_RecordFile], settings: Settings, *, output: str | None, check: bool,
                   report_path: str | None, master: str, messages: Messages) -> tuple[Result, list[Problem]]:
    from pyspark.sql import functions as F

    problems: list[Problem] = []
    usable: list[tuple[int, _RecordFile]] = []
    for n, f in enumerate(files):
        if not os.path.isfile(f.path):
            problems.append(Problem(f.path, "not a regular file"))
        elif f.path.endswith(".zst"):
            problems.append(Problem(f.path, "zstd-compressed JSON Lines are not read by the Spark engine; skipped"))
        elif f.kind == "parquet" and (problem := _parquet_problem(f.path)) is not None:
            problems.append(problem)
        else:
            usable.append((n, f))
    spark = session(master, quiet=True)
    frames = []
    if jsonl := [(n, f) for n, f in usable if f.kind == "jsonl"]:
        frames.append(_read_jsonl(spark, jsonl))
    if parquet := [(n, f) for n, f in usable if f.kind == "parquet"]:
        frames.append(_read_parquet(spark, parquet))
    rows = None
    for frame in frames:
        rows = frame if rows is None else rows.unionByName(frame)
    results: list[tuple[DocumentResult, str]] = []
    if rows is not None:
        rows = rows.persist()
        bad = _to_arrow(rows.where(~F.col("ok")).select("fidx", "line", "id", "problem"))
        for row in bad.to_pylist():
            kind = "skipped" if files[row["fidx"]].kind == "jsonl" else "passed through"
            message = row["problem"] or f"duplicate id {row['id']!r}; {kind}"
            problems.append(Problem(_source(files[row["fidx"]].path), message, row["line"]))
        docs = rows.where(F.col("ok")).select("order", "fidx", "id", "text", "raw", "source")
        run = run_dataframe(docs, "id", "text", settings, order_col="order", source_col="source")
        results = collect_results(run, "id", "source")
        if check:
            for result, _ in results:
                if result.changed:
                    messages.info(f"would clean {result.document.id} ({len(result.edits)} paragraph(s))")
        else:
            outputs = _record_outputs(run)
            if files[0].kind == "jsonl":  # one stream of records, in input order (stdout or -o FILE)
                _write_jsonl([line for n, _ in usable for _, line, _ in outputs.get(n, [])], output)
            else:
                for n, f in usable:  # one Parquet file (the command line allows one)
                    _write_parquet(f.path, {row: text for row, _, text in outputs.get(n, [])}, output or f.path)
        rows.unpersist()
    problems.sort(key=lambda p: (_file_number(files, p.source), p.line or 0))
    for p in problems:
        messages.problem(p)
    _report(report_path, [line for _, line in results], problems)
    return Result(settings, tuple(r for r, _ in results), ()), problems


def _source(path: str) -> str:
    return "<stdin>" if path == STDIN else path


def _file_number(files: Sequence[_RecordFile], source: str) -> int:
    return next((n for n, f in enumerate(files) if _source(f.path) == source), len(files))


def _file_index(spark: SparkSession, df: DataFrame, numbered: Sequence[tuple[int, _RecordFile]]) -> DataFrame:
    """``df`` (with ``path``: Spark's file URI) with ``fidx``, the file's place on the command line."""
    from pyspark.sql import functions as F

    wanted = {os.path.abspath(f.path): n for n, f in numbered}
    uris = [r["path"] for r in df.select("path").distinct().collect()]
    mapping = {u: wanted[os.path.abspath(unquote(urlparse(u).path))] for u in uris}
    table = _frame(spark, {"path": list(mapping), "fidx": list(mapping.values())}, "path string, fidx long")
    return df.join(F.broadcast(table), "path").drop("path")


def _read_jsonl(spark: SparkSession, numbered: Sequence[tuple[int, _RecordFile]]) -> DataFrame:
    """JSON Lines files -> one row per line that is not blank, in input order, parsed with the
    embedded parser (``dedup.streams``): the record's id, text and raw line, or its problem; a
    repeated id is a problem (the record is skipped)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    lines = spark.read.text([os.path.abspath(f.path) for _, f in numbered]).select(
        F.col("_metadata.file_path").alias("path"), F.col("_metadata.file_block_start").alias("block"),
        F.monotonically_increasing_id().alias("mid"), "value")
    lines = _file_index(spark, lines, numbered)
    # Line numbers: one task reads a file block in order (increasing ``mid``), so lines are
    # numbered within their block, after the lines of the file's earlier blocks.
    counts = lines.groupBy("fidx", "block").agg(F.count("*").alias("n"))
    before = Window.partitionBy("fidx").orderBy("block").rowsBetween(Window.unboundedPreceding, -1)
    counts = counts.withColumn("prior", F.coalesce(F.sum("n").over(before), F.lit(0)))
    within = Window.partitionBy("fidx", "block").orderBy("mid")
    lines = (lines.join(counts, ["fidx", "block"]).withColumn("line", F.col("prior") + F.row_number().over(within))
             .withColumn("order", F.shiftleft("fidx", _ROW_BITS) + F.col("line")))
    sources = {n: _source(f.path) for n, f in numbered}
    parsed = lines.select("order", "fidx", "line", "value").mapInArrow(_parse_stage(sources), RECORDS)
    first = Window.partitionBy("id").orderBy("order")
    return parsed.withColumn("ok", F.col("ok") & (F.row_number().over(first) == 1))


def _parse_stage(sources: dict[int, str]) -> Any:
    def run(batches: Any) -> Any:
        schema = _arrow_schema(RECORDS)
        for batch in batches:
            out: dict[str, list[Any]] = {name: [] for name in schema.names}
            for order, fidx, line, raw in zip(*(batch.column(c).to_pylist() for c in ("order", "fidx", "line",
                                                                                     "value")), strict=True):
                problems = Problems()
                record = _parse(raw, sources[fidx], line, TEXT_KEY, ID_KEY, problems)
                if record is not None:
                    _add(out, order, fidx, line, True, record.id, record.fields[TEXT_KEY], raw, None, sources[fidx])
                elif problems.found:
                    _add(out, order, fidx, line, False, None, None, None, problems.found[0].message, sources[fidx])
            yield _batch(out, schema)

    return run


def _parquet_problem(path: str) -> Problem | None:
    """Why a Parquet file's text column cannot be cleaned (``clean_parquet``'s checks), if it cannot."""
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    if TEXT_KEY not in schema.names:
        return Problem(path, f"no {TEXT_KEY!r} column (columns: {', '.join(schema.names)})")
    kind = schema.field(TEXT_KEY).type
    if str(kind) not in ("string", "large_string"):
        return Problem(path, f"column {TEXT_KEY!r} is {kind}, not a string")
    return None


def _read_parquet(spark: SparkSession, numbered: Sequence[tuple[int, _RecordFile]]) -> DataFrame:
    """Parquet files -> one row per row, in input order (``row_index``); a null text or an id
    repeated in the same file is a problem (the row passes through uncleaned)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    frames = []
    for n, f in numbered:  # one read per file: files may have different columns
        df = spark.read.parquet(os.path.abspath(f.path))  # the JVM has its own working directory
        rid = F.col(ID_KEY).cast("string") if ID_KEY in df.columns else F.lit(None).cast("string")
        line = F.col("_metadata.row_index") + 1
        frames.append(df.select(
            F.lit(n).cast("long").alias("fidx"), line.alias("line"),
            F.coalesce(rid, F.concat(F.lit(f"{f.path}:"), line.cast("string"))).alias("id"),
            F.col(TEXT_KEY).alias("text"), F.lit(f.path).alias("source")))
    rows = frames[0]
    for other in frames[1:]:
        rows = rows.unionByName(other)
    rows = rows.withColumn("order", F.shiftleft("fidx", _ROW_BITS) + F.col("line"))
    first = Window.partitionBy("fidx", "id", F.col("text").isNull()).orderBy("order")
    rows = rows.withColumn("nth", F.row_number().over(first))
    ok = F.col("text").isNotNull() & (F.col("nth") == 1)
    null_text = F.when(F.col("text").isNull(), F.lit(f"{TEXT_KEY!r} is null; passed through"))
    return rows.select("order", "fidx", "line", ok.alias("ok"), "id", "text", F.lit(None).cast("string").alias("raw"),
                       null_text.alias("problem"), "source")


ENCODED = "order long, json string, text string"


def _record_outputs(run: SparkRun) -> dict[int, list[tuple[int, str | None, str]]]:
    """By file: ``(line or row, JSON line, cleaned text)`` of each cleaned record, in input order.
    A JSON line is the record's fields as they were with the text replaced
    (``dedup.streams.cleaned_record``), encoded as ``dedup.streams.write_jsonl`` does."""
    lines = run.output.select("order", "raw", "text").mapInArrow(_encode_stage(), ENCODED)
    table = _to_arrow(lines)
    out: dict[int, list[tuple[int, str | None, str]]] = {}
    for order, line, text in sorted(zip(*(table.column(c).to_pylist() for c in ("order", "json", "text")),
                                        strict=True)):
        out.setdefault(order >> _ROW_BITS, []).append((order & ((1 << _ROW_BITS) - 1), line, text))
    return out


def _encode_stage() -> Any:
    def run(batches: Any) -> Any:
        schema = _arrow_schema(ENCODED)
        for batch in batches:
            out: dict[str, list[Any]] = {name: [] for name in schema.names}
            for order, raw, text in zip(*(batch.column(c).to_pylist() for c in ("order", "raw", "text")),
                                        strict=True):
                line = None
                if raw is not None:
                    fields = json.loads(raw)
                    fields[TEXT_KEY] = text
                    line = json.dumps(fields, ensure_ascii=False)
                _add(out, order, line, text)
            yield _batch(out, schema)

    return run


def _write_jsonl(lines: Sequence[str | None], target: str | None) -> None:
    data = "".join(f"{line}\n" for line in lines if line is not None).encode("utf-8")
    if target is None:
        _stdout(data)
        return
    if target.endswith(".gz"):
        data = gzip.compress(data, mtime=0)
    write_atomic(target, data)


def _write_parquet(path: str, cleaned: dict[int, str], target: str) -> None:
    """The file with the cleaned texts in place (rows numbered from 1), same schema and rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    position = table.schema.get_field_index(TEXT_KEY)
    texts = table.column(TEXT_KEY).to_pylist()
    for row, text in cleaned.items():
        texts[row - 1] = text
    field = table.schema.field(TEXT_KEY)
    table = table.set_column(position, field, pa.array(texts, type=field.type))
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    write_atomic(target, sink.getvalue().to_pybytes())
