"""The same cleaning on Apache Spark: a DataFrame of documents in, cleaned texts and edit records out.

    from dedup.spark import clean_dataframe
    cleaned, edits = clean_dataframe(spark.read.parquet("docs/"), id_col="id", text_col="text")
    cleaned.write.parquet("cleaned/")
    edits.write.json("edits/", ignoreNullFields=False)

The stages are the embedded engine's own code, run inside Spark on Arrow batches
(``mapInArrow``), not a second implementation. What runs where:

1. *Per document, distributed*: ``dedup.pipeline.prepare`` (segment, fix, key) gives one row per
   paragraph (document number, index, span, matching key).
2. *Ids, distributed*: paragraph ids are numbered in document order (an exclusive prefix sum of
   paragraph counts) and key ids by first occurrence, exactly as the embedded engine numbers
   them; each unique key is signed once (``MinHasher``) into its 8-bit sketch and LSH band values.
3. *Candidates and verification, distributed*: per LSH band bucket, keys in id order, each key is
   paired with the first 16 keys before it and with its predecessor (``dedup.lsh.BandTable``'s
   rule, by its own function); candidates pass the same gate (``dedup.pipeline.plausible``) and are verified with the
   same ``Verifier`` and container rule (``dedup.pipeline.verify_pair``).
4. *Planning, on the driver*: the documents holding a paragraph with a copy are collected as
   compact columns and planned by the embedded ``Planner`` (``dedup.driver``).
5. *Apply and records, distributed*: the decisions are joined to their documents, with the text
   of each kept copy, and each document's edits, cleaned text and JSON record are made by
   ``dedup.pipeline.document_result`` and ``dedup.render.jsonl.edit_record``.
6. *Clusters*: connected components of the planner's source edges, by large-star/small-star
   rounds in Spark, or by union-find on the driver when the edge list is small.

Documents are processed in ``id`` order, like ``Deduplicator.run`` (or in the order of an
explicit ``order_col``), so results, edit records and clusters are those of the embedded engine
for the same documents (``tests/test_spark.py`` checks them byte for byte).

pyspark is an optional extra: ``pip install 'dedup[spark]'`` (and a Java runtime). This module
imports without it; using it without pyspark raises ``SparkUnavailable`` saying so.
"""

from __future__ import annotations

import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from dedup.driver import NEAR, Collected, DriverPlan, clusters_from_labels, plan_collected, union_find_labels
from dedup.fixes import Fixer
from dedup.lsh import _bucket_pairs, band_values, choose_banding
from dedup.model import Cluster, Document, DocumentResult, Edit, Member, ParagraphRef, Problem
from dedup.pipeline import (
    LONG_KEY_CHARS,
    Removal,
    Result,
    document_result,
    gate,
    pair_estimates,
    plausible,
    prepare,
    verify_pair,
)
from dedup.render.jsonl import dumps, edit_record
from dedup.settings import BOILERPLATE_OFF, BOILERPLATE_REMOVE, Settings
from dedup.signatures import MinHasher
from dedup.verify import KeyMatch, Verifier

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

INSTALL = "pip install 'dedup[spark]'"
# Internal columns carry this prefix; an input column with it is refused.
PREFIX = "_dd_"
# Rows per bucket of the distributed prefix sums (paragraph ids, key ids, cluster ids).
BUCKET_BITS = 20
# Above this many source edges, clusters are computed in Spark (large-star/small-star); at or
# below it, by union-find on the driver, which holds the edges already.
CC_DRIVER_MAX_EDGES = 1_000_000
CC_MAX_ROUNDS = 64

_MID_BITS = 33  # monotonically_increasing_id(): partition id << 33 | row within the partition


class SparkUnavailable(RuntimeError):
    """pyspark, or the Java runtime it needs, is missing."""


# -- session -----------------------------------------------------------------------------------------


def _require_pyspark() -> None:
    try:
        import pyarrow  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as exc:
        raise SparkUnavailable(f"the Spark engine needs pyspark and pyarrow: {INSTALL}") from exc


def java_problem() -> str | None:
    """Why Spark cannot start a JVM here, or None when a ``java`` is found."""
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return None
    if shutil.which("java"):
        return None
    return ("the Spark engine needs a Java runtime (17 or later) and none was found: install one "
            "(e.g. apt-get install default-jre-headless) or set JAVA_HOME")


def session(master: str = "local[*]", app_name: str = "dedup", config: Mapping[str, str] | None = None,
            quiet: bool = False) -> SparkSession:
    """A SparkSession (the active one when there is one, e.g. under spark-submit), configured for
    dedup's runs (see the settings below; ``config`` overrides them). ``quiet``: Spark logs
    errors only (``spark-log4j2.properties``), as the command line wants."""
    _require_pyspark()
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)
    active = _active_session()
    if active is not None:
        return active
    problem = java_problem()
    if problem is not None:
        raise SparkUnavailable(problem)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName(app_name)
    settings = {
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        # Let adaptive execution coalesce small shuffle partitions by size, also inside the
        # persisted stages of a run: otherwise every stage runs spark.sql.shuffle.partitions
        # (200) tasks, most of them Python tasks with almost nothing to do.
        "spark.sql.optimizer.canChangeCachedPlanOutputPartitioning": "true",
        "spark.sql.adaptive.coalescePartitions.parallelismFirst": "false",
    }
    if quiet:
        log = Path(__file__).with_name("spark-log4j2.properties")
        settings["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile={log.as_uri()}"
    settings.update(config or {})
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start
        raise SparkUnavailable(f"Spark could not start ({exc}); is a Java runtime (17 or later) installed?") from exc
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _active_session() -> SparkSession | None:
    from pyspark.sql import SparkSession

    return SparkSession.getActiveSession()


# -- arrow helpers -------------------------------------------------------------------------------


def _pa() -> Any:
    import pyarrow

    return pyarrow


def _to_arrow(df: DataFrame) -> pa.Table:
    """Collect a DataFrame to the driver as an Arrow table."""
    if hasattr(df, "toArrow"):  # Spark >= 4
        return df.toArrow()
    from pyspark.sql.pandas.types import to_arrow_schema  # pragma: no cover - Spark 3.5

    batches = getattr(df, "_collect_as_arrow")()  # noqa: B009  # pragma: no cover - private in Spark 3.5
    if batches:  # pragma: no cover
        return _pa().Table.from_batches(batches)
    return to_arrow_schema(df.schema).empty_table()  # pragma: no cover


def _frame(spark: SparkSession, columns: Mapping[str, Sequence[Any]], schema: str) -> DataFrame:
    """A DataFrame from columns held on the driver (through Arrow)."""
    pa = _pa()
    arrow = _arrow_schema(schema)
    table = pa.table({name: pa.array(list(columns[name]), type=arrow.field(name).type) for name in arrow.names},
                     schema=arrow)
    try:
        return spark.createDataFrame(table)
    except (TypeError, ValueError):  # pragma: no cover - Spark 3.5 takes pandas
        return spark.createDataFrame(table.to_pandas(), schema=schema)


_ARROW_TYPES = {"long": "int64", "string": "string", "double": "float64", "binary": "binary", "boolean": "bool_"}


def _arrow_schema(ddl: str) -> pa.Schema:
    """Arrow schema of a flat DDL schema of the types used here (and arrays of them)."""
    pa = _pa()
    fields = []
    for part in ddl.split(","):
        name, kind = part.split()
        if kind.startswith("array<"):
            fields.append(pa.field(name, pa.list_(getattr(pa, _ARROW_TYPES[kind[6:-1]])())))
        else:
            fields.append(pa.field(name, getattr(pa, _ARROW_TYPES[kind])()))
    return pa.schema(fields)


def _add(columns: dict[str, list[Any]], *values: Any) -> None:
    """Append one row's ``values`` to ``columns`` (in the columns' order)."""
    for column, value in zip(columns.values(), values, strict=True):
        column.append(value)


def _batch(columns: Mapping[str, Any], schema: pa.Schema) -> pa.RecordBatch:
    pa = _pa()
    return pa.RecordBatch.from_arrays([pa.array(columns[f.name], type=f.type) for f in schema], schema=schema)


# -- distributed stages (functions shipped to the executors) --------------------------------------

DOCUMENTS = ("doc long, id string, dup boolean, n long, starts array<long>, ends array<long>, keys array<string>, "
             "pieces array<long>")
PARAGRAPHS = "doc long, id string, idx long, gid long, start long, end long, key string, klen long, piece boolean"
KEYS = "kid long, key string, klen long, occ long, sketch binary, bands array<long>"
PAIRS = "i long, j long"
AGREEMENT = "i long, j long, la long, lb long, share double"
FOUND = "i long, j long, seq long, container boolean, kept long, removed long, rule string, score double"
KEPT_TEXT = "kdoc long, kstart long, kend long, ktext string"

Stage = Callable[[Iterator["pa.RecordBatch"]], Iterator["pa.RecordBatch"]]


def _document_stage(settings: Settings, text_col: str) -> Stage:
    """Documents (sorted in run order) -> their paragraphs' spans and matching keys
    (``prepare``), and whether a document repeats the id of the one before it."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        schema = _arrow_schema(DOCUMENTS)
        fixer = Fixer(settings.fixes)
        previous = None
        for batch in batches:
            out: dict[str, list[Any]] = {name: [] for name in schema.names}
            for doc, doc_id, text in zip(batch.column(PREFIX + "doc").to_pylist(),
                                         batch.column(PREFIX + "id").to_pylist(),
                                         batch.column(text_col).to_pylist(), strict=True):
                if text is None:
                    continue
                prep = prepare(Document(doc_id, text), fixer)
                out["doc"].append(doc)
                out["id"].append(doc_id)
                out["dup"].append(doc_id == previous)
                out["n"].append(len(prep.keys))
                out["starts"].append(prep.segments.starts)
                out["ends"].append(prep.segments.ends)
                out["keys"].append(list(prep.keys))
                cut = prep.segments.continued  # pieces of an over-long line (never parts of a merged line)
                out["pieces"].append([i for i in range(len(prep.keys)) if i in cut or i + 1 in cut] if cut else [])
                previous = doc_id
            yield _batch(out, schema)

    return run


def _number_stage(first_gid: Mapping[int, int]) -> Stage:
    """Documents with their paragraphs -> one row per paragraph with its id in the run: the
    partition's first paragraph id (``first_gid``, by partition) plus the paragraphs before it
    in the partition (partitions are sorted in run order)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        schema = _arrow_schema(PARAGRAPHS)
        gid: int | None = None
        for batch in batches:
            out: dict[str, list[Any]] = {name: [] for name in schema.names}
            for doc, doc_id, starts, ends, keys, pieces in zip(*(batch.column(c).to_pylist() for c in (
                    "doc", "id", "starts", "ends", "keys", "pieces")), strict=True):
                if gid is None:
                    gid = first_gid[doc >> _MID_BITS]
                cut = set(pieces)
                for i, (s, e, key) in enumerate(zip(starts, ends, keys, strict=True)):
                    _add(out, doc, doc_id if i == 0 else None, i, gid, s, e, key, len(key), i in cut)
                    gid += 1
            yield _batch(out, schema)

    return run


def _sign_stage(settings: Settings) -> Stage:
    """Unique keys -> their 8-bit MinHash sketch and LSH band values (each key signed once)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        schema = _arrow_schema(KEYS)
        hasher = MinHasher(settings.num_perm, settings.seed, settings.ngram)
        banding = choose_banding(settings.num_perm, settings.lsh_recall_at)
        for batch in batches:
            keys = batch.column("key").to_pylist()
            sig = hasher.signatures(keys)
            sketch = sig.astype(np.uint8)
            bands = band_values(sig, banding).astype(np.int64)
            lengths = batch.column("klen").to_pylist()
            yield _batch({
                "kid": batch.column("kid"), "key": batch.column("key"), "klen": batch.column("klen"),
                "occ": batch.column("occ"),
                "sketch": [sketch[n].tobytes() if lengths[n] else b"" for n in range(len(keys))],
                "bands": [bands[n].tolist() if lengths[n] else [] for n in range(len(keys))],
            }, schema)

    return run


def _pair_stage() -> Stage:
    """LSH buckets (the key ids of one band value, in id order) -> candidate pairs, by
    ``BandTable``'s own rule: each key with the first 16 keys before it and its predecessor."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        schema = _arrow_schema(PAIRS)
        for batch in batches:
            buckets = batch.column("ids")
            ids = buckets.flatten().to_numpy(zero_copy_only=False).astype(np.int64)
            sizes = np.diff(buckets.offsets.to_numpy(zero_copy_only=False))
            values = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)  # one value per bucket
            pairs = _bucket_pairs(values, ids, np.arange(len(ids))) if len(ids) else np.zeros((0, 2), dtype=np.int64)
            yield _batch({"i": pairs[:, 0], "j": pairs[:, 1]}, schema)

    return run


def _gate_stage(settings: Settings) -> Stage:
    """Candidate pairs -> their lengths and sketch agreement (for the long-key rule, on the driver)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        schema = _arrow_schema(AGREEMENT)
        perm = settings.num_perm
        for batch in batches:
            n = batch.num_rows
            sa = np.frombuffer(b"".join(batch.column("sa").to_pylist()), dtype=np.uint8).reshape(n, perm)
            sb = np.frombuffer(b"".join(batch.column("sb").to_pylist()), dtype=np.uint8).reshape(n, perm)
            yield _batch({"i": batch.column("i"), "j": batch.column("j"), "la": batch.column("la"),
                          "lb": batch.column("lb"), "share": (sa == sb).mean(axis=1)}, schema)

    return run


def _long_pairs(candidates: DataFrame, keys: DataFrame, settings: Settings) -> frozenset[tuple[int, int]]:
    """The candidate pairs with a key of ``LONG_KEY_CHARS`` or more that pass the gate, long-key
    rule included (``dedup.pipeline.gate``, on all such pairs at once: each is ranked at its
    later key, among earlier keys only, so this is what the embedded engine keeps batch by batch)."""
    from pyspark.sql import functions as F

    if not keys.where(F.col("klen") >= LONG_KEY_CHARS).limit(1).count():
        return frozenset()
    table = _to_arrow(candidates.where((F.col("la") >= LONG_KEY_CHARS) | (F.col("lb") >= LONG_KEY_CHARS))
                      .select("i", "j", "la", "lb", "sa", "sb").mapInArrow(_gate_stage(settings), AGREEMENT))
    cols = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
    order = np.lexsort((cols["j"], cols["i"]))
    cols = {name: values[order] for name, values in cols.items()}
    pairs = np.stack([cols["i"], cols["j"]], 1).astype(np.int64)
    keep = gate(pairs, cols["la"], cols["lb"], lambda idx: cols["share"][idx])
    return frozenset((int(i), int(j)) for i, j in pairs[keep].tolist())


def _verify_stage(settings: Settings, long_pairs: frozenset[tuple[int, int]],
                  piece_keys: frozenset[int]) -> Stage:
    """Candidate pairs (with both keys) -> the gate, then verified matches and merge containers.
    A pair with a long key is verified when it is in ``long_pairs`` (see ``_long_pairs``); the
    keys of pieces of over-long lines (``piece_keys``) are never merge containers."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        schema = _arrow_schema(FOUND)
        verifier = Verifier(settings.threshold)
        perm = settings.num_perm
        for batch in batches:
            n = batch.num_rows
            la = np.asarray(batch.column("la").to_pylist(), dtype=np.int64)
            lb = np.asarray(batch.column("lb").to_pylist(), dtype=np.int64)
            sa = np.frombuffer(b"".join(batch.column("sa").to_pylist()), dtype=np.uint8).reshape(n, perm)
            sb = np.frombuffer(b"".join(batch.column("sb").to_pylist()), dtype=np.uint8).reshape(n, perm)

            def agreement(idx: np.ndarray, sa: np.ndarray = sa, sb: np.ndarray = sb) -> np.ndarray:
                share: np.ndarray = (sa[idx] == sb[idx]).mean(axis=1)
                return share

            keep = plausible(la, lb, agreement)
            ii, jj = batch.column("i").to_pylist(), batch.column("j").to_pylist()
            for k in np.flatnonzero((la >= LONG_KEY_CHARS) | (lb >= LONG_KEY_CHARS)).tolist():
                keep[k] = (ii[k], jj[k]) in long_pairs
            ka, kb = batch.column("ka").to_pylist(), batch.column("kb").to_pylist()
            out: dict[str, list[Any]] = {name: [] for name in schema.names}
            for k in np.flatnonzero(keep).tolist():
                i, j = ii[k], jj[k]
                matches, container = verify_pair(verifier, i, ka[k], j, kb[k])
                for seq, m in enumerate(matches):
                    _add(out, i, j, seq, False, m.kept, m.removed, m.rule, m.score)
                if container is not None and container[0] not in piece_keys:
                    _add(out, i, j, len(matches), True, container[0], container[1], None, None)
            yield _batch(out, schema)

    return run


def _slice_stage() -> Stage:
    """Documents with the spans of their kept copies -> the text of each span."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        schema = _arrow_schema(KEPT_TEXT)
        for batch in batches:
            out: dict[str, list[Any]] = {name: [] for name in schema.names}
            for doc, text, spans in zip(batch.column("kdoc").to_pylist(), batch.column("text").to_pylist(),
                                        batch.column("spans").to_pylist(), strict=True):
                for span in spans:
                    out["kdoc"].append(doc)
                    out["kstart"].append(span["kstart"])
                    out["kend"].append(span["kend"])
                    out["ktext"].append(text[span["kstart"] : span["kend"]])
            yield _batch(out, schema)

    return run


def _apply_stage(settings: Settings, text_col: str, names: list[str]) -> Stage:
    """Documents with the decisions about their paragraphs -> cleaned text, edit record (JSON) and
    content characters; every input column passes through, the text column cleaned."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        pa = _pa()
        fixer = Fixer(settings.fixes)
        hasher = MinHasher(settings.num_perm, settings.seed, settings.ngram)
        fingerprint = settings.fingerprint()
        remove_boilerplate = settings.boilerplate == BOILERPLATE_REMOVE
        for batch in batches:
            texts = batch.column(text_col).to_pylist()
            ids = batch.column(PREFIX + "id").to_pylist()
            sources = batch.column(PREFIX + "source").to_pylist()
            removals = batch.column(PREFIX + "removals").to_pylist()
            boilerplate = batch.column(PREFIX + "boilerplate").to_pylist()
            prepared = [None if t is None else prepare(Document(d, t, s), fixer)
                        for d, t, s in zip(ids, texts, sources, strict=True)]
            pairs = [(p.keys[r["idx"]], r["source_key"]) for p, rs in zip(prepared, removals, strict=True)
                     if p is not None for r in rs or ()]
            estimates = iter(pair_estimates(hasher, pairs))
            cleaned: list[str | None] = []
            records: list[str | None] = []
            content: list[int | None] = []
            for doc_id, text, source, prep, rs, bp in zip(ids, texts, sources, prepared, removals, boilerplate,
                                                          strict=True):
                if prep is None or text is None:
                    cleaned.append(text)
                    records.append(None)
                    content.append(None)
                    continue
                kept_text: dict[tuple[str, int, int, int], str | None] = {}
                found: dict[int, Removal] = {}
                for r in rs or ():
                    refs = []
                    for k in sorted(r["kept"], key=lambda k: k["pos"]):
                        ref = ParagraphRef(k["id"], k["index"], k["start"], k["end"])
                        kept_text[k["id"], k["index"], k["start"], k["end"]] = k["text"]
                        refs.append(ref)
                    found[r["idx"]] = Removal(r["rule"], r["reason"], r["score"], tuple(refs), r["cluster"],
                                              next(estimates))
                listed = {b["idx"]: b["docs"] for b in bp or ()}
                result = document_result(Document(doc_id, text, source), prep, found, listed, remove_boilerplate)
                record = edit_record(result, fingerprint, {}, lambda ref, kt=kept_text: kt.get(  # type: ignore[misc]
                    (ref.doc, ref.index, ref.start, ref.end)))
                cleaned.append(result.cleaned)
                records.append(dumps(record))
                content.append(result.content_chars)
            arrays = [pa.array(cleaned, type=batch.schema.field(text_col).type) if name == text_col
                      else batch.column(name) for name in names]
            arrays += [batch.column(PREFIX + "doc"), pa.array(records, type=pa.string()),
                       pa.array(content, type=pa.int64())]
            yield pa.RecordBatch.from_arrays(arrays, names=[*names, PREFIX + "doc", PREFIX + "record",
                                                            PREFIX + "content"])

    return run


# -- distributed helpers -----------------------------------------------------------------------------


def _exclusive_prefix(df: DataFrame, pos: str, weight: str, out: str) -> DataFrame:
    """``df`` with ``out``: the sum of ``weight`` over the rows of smaller ``pos`` (unique). Done
    in buckets of ``2**BUCKET_BITS`` positions: bucket totals are summed on the driver (one number
    per bucket), rows inside a bucket by a window; no step holds all rows in one task."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    spark = df.sparkSession
    bucketed = df.withColumn("_b", F.shiftright(F.col(pos), BUCKET_BITS))
    totals = sorted((int(r["_b"]), int(r["_t"])) for r in bucketed.groupBy("_b").agg(F.sum(weight).alias("_t"))
                    .collect())
    offsets: dict[str, list[int]] = {"_b": [], "_off": []}
    running = 0
    for b, t in totals:
        offsets["_b"].append(b)
        offsets["_off"].append(running)
        running += t
    table = _frame(spark, offsets, "_b long, _off long")
    w = Window.partitionBy("_b").orderBy(pos).rowsBetween(Window.unboundedPreceding, -1)
    return (bucketed.join(F.broadcast(table), "_b")
            .withColumn(out, F.col("_off") + F.coalesce(F.sum(weight).over(w), F.lit(0)).cast("long"))
            .drop("_b", "_off"))


def _persist(df: DataFrame) -> DataFrame:
    from pyspark import StorageLevel

    return df.persist(StorageLevel.MEMORY_AND_DISK)


# -- connected components ------------------------------------------------------------------------


def _large_star(edges: DataFrame) -> DataFrame:
    """Each node links its larger neighbours to the smallest node of its neighbourhood."""
    from pyspark.sql import functions as F

    both = edges.select(F.col("hi").alias("u"), F.col("lo").alias("v")).unionByName(
        edges.select(F.col("lo").alias("u"), F.col("hi").alias("v")))
    smallest = both.groupBy("u").agg(F.least(F.min("v"), F.col("u")).alias("m"))
    return (both.where(F.col("v") > F.col("u")).join(smallest, "u")
            .select(F.col("v").alias("hi"), F.col("m").alias("lo")).distinct())


def _small_star(edges: DataFrame) -> DataFrame:
    """Each node links itself and its smaller neighbours to the smallest of them."""
    from pyspark.sql import functions as F

    smallest = edges.groupBy(F.col("hi").alias("u")).agg(F.min("lo").alias("m"))
    linked = (edges.join(smallest, edges["hi"] == smallest["u"]).where(F.col("lo") != F.col("m"))
              .select(F.col("lo").alias("hi"), F.col("m").alias("lo")))
    return linked.unionByName(smallest.select(F.col("u").alias("hi"), F.col("m").alias("lo"))).distinct()


def component_labels(edges: DataFrame, max_rounds: int = CC_MAX_ROUNDS) -> tuple[DataFrame, int]:
    """Connected components of an undirected graph given as ``a, b`` columns of node ids: each
    node with the smallest node of its component (``node, label``), and the rounds taken.

    Large-star and small-star operations (Kiveris et al., "Connected Components in MapReduce and
    Beyond", 2014) alternate until the graph is a set of stars, each leaf linked only to its root
    and no root a leaf: since both operations keep the components, each star is then one
    component, and its root (smaller than its leaves) the component's smallest node. Each round
    is two to four shuffles and is checkpointed, so the plan does not grow with the rounds.
    """
    from pyspark.sql import functions as F

    current = (edges.select(F.greatest("a", "b").alias("hi"), F.least("a", "b").alias("lo"))
               .where(F.col("hi") != F.col("lo")).distinct())
    rounds = 0
    while True:
        rounds += 1
        if rounds > max_rounds:
            raise RuntimeError(f"connected components did not converge in {max_rounds} rounds")
        current = _small_star(_large_star(current)).localCheckpoint()
        # A set of stars: no node is a leaf twice, and no leaf is also a root.
        ends = current.select(F.col("hi").alias("x"), F.lit(1).alias("leaf"), F.lit(0).alias("root")).unionByName(
            current.select(F.col("lo").alias("x"), F.lit(0).alias("leaf"), F.lit(1).alias("root")))
        unfinished = (ends.groupBy("x").agg(F.sum("leaf").alias("leaf"), F.max("root").alias("root"))
                      .where((F.col("leaf") > 1) | ((F.col("leaf") == 1) & (F.col("root") == 1))).limit(1).count())
        if not unfinished:
            break
    labels = current.select(F.col("hi").alias("node"), F.col("lo").alias("label")).unionByName(
        current.select(F.col("lo").alias("node"), F.col("lo").alias("label"))).distinct()
    return labels, rounds


# -- the run -----------------------------------------------------------------------------------------

CLUSTERS = ("cluster long, member long, doc string, index long, start long, end long, status string, "
            "rule string, score double, reason string")


@dataclass
class SparkRun:
    """What a Spark run produced. ``output`` holds every input column (the text cleaned) plus the
    document's run order (``_dd_doc``), its edit record as a JSON line (``_dd_record``, as
    ``dedup clean --report`` writes it) and its content characters; ``plan`` is the driver's plan."""

    spark: SparkSession
    settings: Settings
    columns: list[str]
    text_col: str
    output: DataFrame
    plan: DriverPlan
    stats: dict[str, int] = field(default_factory=dict)
    cc_driver_max_edges: int = CC_DRIVER_MAX_EDGES
    _clusters: DataFrame | None = None

    @property
    def cleaned(self) -> DataFrame:
        """The input DataFrame with the text column cleaned."""
        return self.output.select(*self.columns)

    @property
    def records(self) -> DataFrame:
        """``(_dd_doc, record)``: each document's edit record as a JSON line."""
        from pyspark.sql import functions as F

        return self.output.where(F.col(PREFIX + "record").isNotNull()).select(
            PREFIX + "doc", F.col(PREFIX + "record").alias("record"))

    @property
    def edits(self) -> DataFrame:
        """The edit records as typed columns, in the layout of ``dedup/schemas/edits.schema.json``."""
        from pyspark.sql import functions as F

        return self.records.select(F.from_json("record", EDITS_SCHEMA).alias("r")).select("r.*")

    def clusters(self) -> DataFrame:
        """One row per cluster member: ``cluster`` id, ``member`` position (0: the canonical copy,
        or the first in keep order), the paragraph, its status, rule, score, reason and the
        paragraphs it matched (``matched``)."""
        if self._clusters is None:
            self._clusters = _clusters_frame(self)
        return self._clusters

    def cluster_list(self) -> tuple[Cluster, ...]:
        """The clusters as ``Deduplicator.clusters()`` returns them."""
        rows = _to_arrow(self.clusters().orderBy("cluster", "member")).to_pylist()
        out: list[Cluster] = []
        for row in rows:
            if not out or out[-1].id != row["cluster"]:
                out.append(Cluster(row["cluster"], ()))
            member = Member(ParagraphRef(row["doc"], row["index"], row["start"], row["end"]), row["status"],
                            row["rule"], row["score"], row["reason"],
                            tuple(ParagraphRef(m["doc"], m["index"], m["start"], m["end"]) for m in row["matched"]))
            out[-1] = Cluster(out[-1].id, (*out[-1].members, member))
        return tuple(out)


EDITS_SCHEMA = (
    "schema string, version long, kind string, tool string, settings string, "
    "document struct<id: string, source: string>, offsets string, "
    "input struct<sha256: string, chars: long>, output struct<sha256: string, chars: long>, "
    "segmentation string, paragraphs long, "
    "signals struct<duplicate_paragraphs: double, duplicate_chars: double, removed_paragraphs: long, "
    "fixes: map<string, long>>, "
    "boilerplate array<struct<index: long, span: array<long>, documents: long>>, "
    "edits array<struct<op: string, input: array<long>, output: array<long>, old: string, new: string, "
    "lines: struct<first: long, before: string, after: string>, rule: string, reason: string, "
    "paragraph: struct<index: long, span: array<long>>, "
    "kept: array<struct<doc: string, index: long, span: array<long>, text: string>>, "
    "cluster: long, score: double, estimate: double>>"
)


def clean_dataframe(df: DataFrame, id_col: str = "id", text_col: str = "text",
                    settings: Settings | None = None) -> tuple[DataFrame, DataFrame]:
    """Clean the ``text_col`` of ``df`` (documents identified by ``id_col``, processed in id order
    like ``Deduplicator.run``): returns the DataFrame with the cleaned text (every other column
    as it was) and a DataFrame of the edit records (one row per document, the layout of
    ``dedup clean --report``).

    >>> cleaned, edits = clean_dataframe(spark.read.parquet("docs/"))   # doctest: +SKIP
    >>> cleaned.write.parquet("cleaned/"); edits.write.json("edits/", ignoreNullFields=False)  # doctest: +SKIP
    """
    run = run_dataframe(df, id_col=id_col, text_col=text_col, settings=settings)
    return run.cleaned, run.edits


def run_dataframe(df: DataFrame, id_col: str = "id", text_col: str = "text", settings: Settings | None = None, *,
                  order_col: str | None = None, source_col: str | None = None,
                  cc_driver_max_edges: int = CC_DRIVER_MAX_EDGES) -> SparkRun:
    """The whole run on Spark; see the module docstring for what runs where.

    Documents are taken in the order of ``id_col`` as a string (``Deduplicator.run``'s order),
    or of ``order_col`` (unique, sortable) when given; ``source_col`` fills the records'
    ``document.source``. Rows whose text is null pass through with no record. The returned
    ``SparkRun.output`` is computed once and persisted (memory and disk)."""
    _require_pyspark()
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    settings = settings or Settings()
    spark = df.sparkSession
    columns = list(df.columns)
    clash = [c for c in columns if c.startswith(PREFIX)]
    if clash:
        raise ValueError(f"input columns may not start with {PREFIX!r}: {', '.join(clash)}")
    for name in (id_col, text_col, order_col, source_col):
        if name is not None and name not in columns:
            raise ValueError(f"no column {name!r} (columns: {', '.join(columns)})")
    banding = choose_banding(settings.num_perm, settings.lsh_recall_at)

    # Documents sorted in run order; ``_dd_doc`` (partition << 33 | row) increases with it.
    docs = df.withColumn(PREFIX + "id", F.col(id_col).cast("string")).withColumn(
        PREFIX + "source", F.col(source_col).cast("string") if source_col else F.lit(None).cast("string"))
    docs = _persist(docs.orderBy(order_col or PREFIX + "id").withColumn(PREFIX + "doc",
                                                                         F.monotonically_increasing_id()))

    # 1. Paragraphs and their keys, per document; paragraph ids in run order from per-partition
    # totals (documents stay in their sorted partitions: no shuffle).
    per_doc = _persist(docs.select(PREFIX + "doc", PREFIX + "id", text_col)
                       .mapInArrow(_document_stage(settings, text_col), DOCUMENTS))
    totals = (per_doc.groupBy(F.shiftright("doc", _MID_BITS).alias("p"))
              .agg(F.sum("n").alias("n"), F.max(F.when(F.col("dup"), F.col("id"))).alias("dup"),
                   F.sum(F.size("pieces")).alias("pieces")).collect())
    if order_col is None:
        twice = sorted(r["dup"] for r in totals if r["dup"] is not None)
        if twice:
            raise ValueError(f"two documents share the id {twice[0]!r}")
    first_gid: dict[int, int] = {}
    running = 0
    for r in sorted(totals, key=lambda r: r["p"]):
        first_gid[r["p"]] = running
        running += r["n"]
    paras = per_doc.mapInArrow(_number_stage(first_gid), PARAGRAPHS)

    # 2. Keys: a key's id is its first paragraph's id (the order of the embedded engine's key
    # ids, which number keys by first occurrence); each key is signed once.
    by_key = Window.partitionBy("key")
    para = paras.withColumn("kid", F.min("gid").over(by_key)).withColumn("occ", F.count(F.lit(1)).over(by_key))
    if settings.boilerplate != BOILERPLATE_OFF:
        short = (F.col("klen") > 0) & (F.col("klen") <= settings.boilerplate_max_chars)
        spread = F.size(F.collect_set("doc").over(by_key))
        para = para.withColumn("bdocs", F.when(short & (spread >= settings.boilerplate_min_docs), spread)
                               .otherwise(F.lit(0)))
    else:
        para = para.withColumn("bdocs", F.lit(0))
    para = _persist(para)
    keys = _persist(para.where(F.col("gid") == F.col("kid")).select("kid", "key", "klen", "occ")
                    .mapInArrow(_sign_stage(settings), KEYS))

    # 3. Candidates (BandTable's rule), gate and verification.
    buckets = (keys.where(F.col("klen") > 0).select("kid", F.posexplode("bands").alias("b", "v"))
               .groupBy("b", "v").agg(F.sort_array(F.collect_list("kid")).alias("ids"))
               .where(F.size("ids") > 1).select("ids"))
    pairs = buckets.mapInArrow(_pair_stage(), PAIRS).distinct()
    side = keys.select("kid", "key", "klen", "sketch")
    candidates = (pairs.join(side.toDF("i", "ka", "la", "sa"), "i").join(side.toDF("j", "kb", "lb", "sb"), "j")
                  .select("i", "j", "ka", "kb", "la", "lb", "sa", "sb"))
    piece_keys: frozenset[int] = frozenset()
    if any(r["pieces"] for r in totals):
        piece_keys = frozenset(r["kid"] for r in para.where(F.col("piece")).select("kid").distinct().collect())
    long_pairs = _long_pairs(candidates, keys, settings)
    found = _persist(candidates.mapInArrow(_verify_stage(settings, long_pairs, piece_keys), FOUND))
    verified = _to_arrow(found)

    # 4. Planning on the driver, from the documents that hold a paragraph with a copy (a key seen
    # twice, or in a verified match or merge container); key texts near such paragraphs.
    matched = (found.select(F.col("kept").alias("kid")).unionByName(found.select(F.col("removed").alias("kid")))
               .distinct().withColumn("matched", F.lit(True)))
    marked = para.join(matched, "kid", "left").withColumn(
        "inv", F.when((F.col("occ") > 1) | F.col("matched").isNotNull(), 1).otherwise(0))
    by_doc = Window.partitionBy("doc")
    around = by_doc.orderBy("idx").rowsBetween(-NEAR, NEAR)
    collected = (marked.withColumn("has", F.max("inv").over(by_doc)).where(F.col("has") == 1)
                 .withColumn("near", F.max("inv").over(around))
                 .select("doc", "idx", "gid", "kid", "start", "end", "klen", "bdocs", "id",
                         F.when(F.col("near") == 1, F.col("key")).alias("text")))
    table = _to_arrow(collected)

    def fetch(wanted: list[int]) -> dict[int, str]:
        asked = _frame(spark, {"kid": wanted}, "kid long")
        got = _to_arrow(keys.join(F.broadcast(asked), "kid").select("kid", "key"))
        return dict(zip(got.column("kid").to_pylist(), got.column("key").to_pylist(), strict=True))

    started = time.perf_counter()
    plan = plan_collected(settings, Verifier(settings.threshold), banding, _collected(table, verified), fetch)
    stats = {"plan_seconds": round(time.perf_counter() - started, 3), "paragraphs": running,
             "collected_paragraphs": plan.paragraphs, "held_keys": plan.held_keys, "fetches": plan.fetches,
             "removed": len(plan.decisions), "edges": len(plan.edges), "verified": verified.num_rows}

    # 5. Apply, distributed: decisions and kept texts joined to their documents.
    output = _persist(_apply(spark, settings, docs, para, plan, columns, text_col))
    stats["documents"] = output.count()
    for frame in (found, keys, para, per_doc, docs):
        frame.unpersist()
    return SparkRun(spark, settings, columns, text_col, output, plan, stats, cc_driver_max_edges)


def _collected(table: pa.Table, verified: pa.Table) -> Collected:
    """The driver's columns, sorted as ``plan_collected`` expects them."""
    cols = {name: table.column(name).to_numpy(zero_copy_only=False) for name in table.column_names}
    order = np.lexsort((cols["idx"], cols["doc"]))
    cols = {name: values[order] for name, values in cols.items()}
    first = cols["idx"] == 0
    numbers = cols["doc"][first]
    kids, at = np.unique(cols["kid"], return_index=True)
    texts = {int(k): t for k, t in zip(cols["kid"].tolist(), cols["text"].tolist(), strict=True) if t is not None}
    found = sorted(verified.to_pylist(), key=lambda r: (r["i"], r["j"], r["seq"]))
    bp = cols["bdocs"] > 0
    return Collected(
        doc_numbers=numbers, doc_ids=cols["id"][first].tolist(),
        para_doc=cols["doc"], para_index=cols["idx"], para_gid=cols["gid"], para_key=cols["kid"],
        para_start=cols["start"], para_end=cols["end"],
        key_len=dict(zip(kids.tolist(), cols["klen"][at].tolist(), strict=True)), key_text=texts,
        matches=[KeyMatch(r["kept"], r["removed"], r["rule"], r["score"]) for r in found if not r["container"]],
        containers=[(r["kept"], r["removed"]) for r in found if r["container"]],
        boilerplate=dict(zip(cols["gid"][bp].tolist(), cols["bdocs"][bp].tolist(), strict=True)),
    )


def _apply(spark: SparkSession, settings: Settings, docs: DataFrame, para: DataFrame, plan: DriverPlan,
           columns: list[str], text_col: str) -> DataFrame:
    from pyspark.sql import functions as F

    dec: dict[str, list[Any]] = {k: [] for k in ("doc", "idx", "rule", "reason", "score", "cluster", "source_key")}
    kept: dict[str, list[Any]] = {k: [] for k in ("doc", "idx", "pos", "kdoc", "id", "index", "kstart", "kend")}
    for d in plan.decisions:
        _add(dec, d.doc_number, d.index, d.rule, d.reason, d.score, d.cluster, d.source_key)
        for pos, k in enumerate(d.kept):
            _add(kept, d.doc_number, d.index, pos, k.doc_number, k.ref.doc, k.ref.index, k.ref.start, k.ref.end)
    decisions = _frame(spark, dec, "doc long, idx long, rule string, reason string, score double, cluster long, "
                                   "source_key string")
    refs = _frame(spark, kept, "doc long, idx long, pos long, kdoc long, id string, index long, kstart long, "
                               "kend long")
    spans = refs.select("kdoc", "kstart", "kend").distinct().groupBy("kdoc").agg(
        F.collect_list(F.struct("kstart", "kend")).alias("spans"))
    kept_texts = (spans.join(docs.select(F.col(PREFIX + "doc").alias("kdoc"), F.col(text_col).alias("text")), "kdoc")
                  .mapInArrow(_slice_stage(), KEPT_TEXT))
    kept_lists = (refs.join(kept_texts, ["kdoc", "kstart", "kend"], "left").groupBy("doc", "idx").agg(
        F.collect_list(F.struct("pos", "id", "index", F.col("kstart").alias("start"), F.col("kend").alias("end"),
                                F.col("ktext").alias("text"))).alias("kept")))
    removals = (decisions.join(kept_lists, ["doc", "idx"]).groupBy("doc").agg(
        F.collect_list(F.struct("idx", "rule", "reason", "score", "cluster", "source_key", "kept"))
        .alias(PREFIX + "removals")))
    payload = docs.join(removals.withColumnRenamed("doc", PREFIX + "doc"), PREFIX + "doc", "left")
    if settings.boilerplate != BOILERPLATE_OFF:
        listed = (para.where(F.col("bdocs") > 0).groupBy("doc")
                  .agg(F.collect_list(F.struct("idx", F.col("bdocs").alias("docs"))).alias(PREFIX + "boilerplate")))
        payload = payload.join(listed.withColumnRenamed("doc", PREFIX + "doc"), PREFIX + "doc", "left")
    else:
        payload = payload.withColumn(PREFIX + "boilerplate", F.lit(None).cast("array<struct<idx:long,docs:long>>"))
    out_schema = _output_schema(docs.select(*columns).schema)
    return payload.mapInArrow(_apply_stage(settings, text_col, columns), out_schema)


def _output_schema(schema: Any) -> Any:
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    return StructType([*schema.fields, StructField(PREFIX + "doc", LongType()),
                       StructField(PREFIX + "record", StringType()), StructField(PREFIX + "content", LongType())])


def _clusters_frame(run: SparkRun) -> DataFrame:
    """Clusters as a DataFrame: component labels by union-find on the driver when the edge list
    is small, else by large-star/small-star in Spark; members joined with the driver's notes."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    spark, plan = run.spark, run.plan
    if len(plan.edges) <= run.cc_driver_max_edges:
        labels_of = union_find_labels(plan.edges)
        labels = _frame(spark, {"node": list(labels_of), "label": list(labels_of.values())}, "node long, label long")
        run.stats["cc_rounds"] = 0
    else:
        edges = _frame(spark, {"a": [a for a, _ in plan.edges], "b": [b for _, b in plan.edges]}, "a long, b long")
        labels, rounds = component_labels(edges)
        run.stats["cc_rounds"] = rounds
    roots = labels.select("label").distinct().withColumn("one", F.lit(1))
    ids = _exclusive_prefix(roots, "label", "one", "cluster").select("label", "cluster")
    notes, matched, refs = _note_frames(spark, plan)
    member = Window.partitionBy("cluster").orderBy("node")
    members = (labels.join(ids, "label").withColumn("member", F.row_number().over(member) - 1)
               .join(refs, "node").join(notes, "node", "left").join(matched, "node", "left"))
    canonical = (F.col("member") == 0) & (F.col("status").isNull() | (F.col("status") != "removed"))
    plain = canonical | F.col("status").isNull()
    return members.select(
        "cluster", "member", "doc", "index", "start", "end",
        F.when(canonical, "canonical").when(F.col("status").isNull(), "kept").otherwise(F.col("status"))
        .alias("status"),
        F.when(plain, None).otherwise(F.col("rule")).alias("rule"),
        F.when(plain, None).otherwise(F.col("score")).alias("score"),
        F.when(canonical, "kept: first in keep order")
        .when(F.col("status").isNull(), "kept: a copy of it was matched, not it").otherwise(F.col("reason"))
        .alias("reason"),
        F.when(plain | F.col("matched").isNull(), F.array().cast("array<struct<doc:string,index:long,start:long,"
                                                                 "end:long>>"))
        .otherwise(F.col("matched")).alias("matched"),
    )


def _note_frames(spark: SparkSession, plan: DriverPlan) -> tuple[DataFrame, DataFrame, DataFrame]:
    from pyspark.sql import functions as F

    notes: dict[str, list[Any]] = {k: [] for k in ("node", "status", "rule", "score", "reason")}
    kept: dict[str, list[Any]] = {k: [] for k in ("node", "pos", "doc", "index", "start", "end")}
    for gid, n in plan.notes.items():
        _add(notes, gid, n.status, n.rule, n.score, n.reason)
        for pos, q in enumerate(n.kept):
            r = plan.refs[q]
            _add(kept, gid, pos, r.doc, r.index, r.start, r.end)
    refs: dict[str, list[Any]] = {k: [] for k in ("node", "doc", "index", "start", "end")}
    for gid, r in plan.refs.items():
        _add(refs, gid, r.doc, r.index, r.start, r.end)
    note_df = _frame(spark, notes, "node long, status string, rule string, score double, reason string")
    kept_df = _frame(spark, kept, "node long, pos long, doc string, index long, start long, end long")
    matched = kept_df.groupBy("node").agg(F.sort_array(F.collect_list(F.struct("pos", "doc", "index", "start",
                                                                               "end"))).alias("m"))
    matched = matched.select("node", F.transform("m", lambda s: F.struct(
        s["doc"].alias("doc"), s["index"].alias("index"), s["start"].alias("start"), s["end"].alias("end")))
        .alias("matched"))
    return note_df, matched, _frame(spark, refs, "node long, doc string, index long, start long, end long")


def driver_clusters(run: SparkRun) -> tuple[Cluster, ...]:
    """The clusters by union-find on the driver (for comparison with the Spark path)."""
    return clusters_from_labels(run.plan, union_find_labels(run.plan.edges))


# -- results on the driver (for the CLI) -------------------------------------------------------------


def result_from_record(record: Mapping[str, Any], doc: Document, cleaned: str, content: int) -> DocumentResult:
    """The ``DocumentResult`` an edit record describes (the record holds every edit in full)."""
    from dedup.model import Boilerplate

    doc_id = record["document"]["id"]
    edits = []
    for e in record["edits"]:
        p = e["paragraph"]
        edits.append(Edit(
            op=e["op"], start=e["input"][0], end=e["input"][1], old=e["old"], new=e["new"], rule=e["rule"],
            reason=e["reason"], paragraph=None if p is None else ParagraphRef(doc_id, p["index"], *p["span"]),
            kept=tuple(ParagraphRef(k["doc"], k["index"], *k["span"]) for k in e["kept"]),
            cluster=e["cluster"], score=e["score"], estimate=e["estimate"]))
    listed = tuple(Boilerplate(ParagraphRef(doc_id, b["index"], *b["span"]), b["documents"])
                   for b in record["boilerplate"])
    return DocumentResult(doc, record["segmentation"], record["paragraphs"], tuple(edits), cleaned, content, listed)


# -- the CLI's glue ------------------------------------------------------------------------------------


class Messages(Protocol):
    def info(self, text: str, style: str | None = None) -> None: ...

    def problem(self, problem: Problem) -> None: ...


def run_clean_spark(inputs: Sequence[str], settings: Settings, *, pattern: str, output: str | None,
                    mode: str, in_place: bool, check: bool, report_path: str | None, master: str,
                    messages: Messages) -> tuple[Result, list[Problem]]:
    """``dedup clean --engine spark``: read the inputs, clean them on Spark and write what the
    embedded engine writes (cleaned files or records, the report); return the results (for the
    summary) and the inputs that could not be processed. See ``dedup.spark_io``."""
    import click

    from dedup.spark_io import UsageError, clean_inputs

    try:
        return clean_inputs(inputs, settings, pattern=pattern, output=output, mode=mode, in_place=in_place, check=check,
                            report_path=report_path, master=master, messages=messages)
    except (SparkUnavailable, UsageError) as exc:
        raise click.UsageError(str(exc)) from exc


def run_scan_spark(inputs: Sequence[str], settings: Settings, *, pattern: str, master: str,
                   messages: Messages) -> tuple[Result, list[Problem]]:
    """``dedup scan --engine spark``: the clusters of text inputs, computed on Spark."""
    import click

    from dedup.spark_io import UsageError, scan_inputs

    try:
        return scan_inputs(inputs, settings, pattern=pattern, master=master, messages=messages)
    except (SparkUnavailable, UsageError) as exc:
        raise click.UsageError(str(exc)) from exc
