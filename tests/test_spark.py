"""The Spark engine gives the embedded engine's results: byte-identical cleaned texts, identical edit
records and identical clusters, on the samples and on a generated corpus, through the library and
through ``dedup clean|scan --engine spark`` (folders, JSON Lines, Parquet). Spark local[2]."""

from __future__ import annotations

import dataclasses
import json
import os
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import SAMPLES, check_records
from corpus import generate

from dedup import Deduplicator, Document, Settings
from dedup.cli import cli
from dedup.pipeline import Result
from dedup.render.jsonl import dumps, edit_records

pytestmark = pytest.mark.slow

CASES = sorted(p.name for p in SAMPLES.iterdir() if (p / "input").is_dir())


def _sample_documents() -> list[Document]:
    return [Document(f"{case}/input/{f.name}", f.read_text(encoding="utf-8"))
            for case in CASES for f in sorted((SAMPLES / case / "input").iterdir())]


def _frame(spark: Any, docs: Sequence[Document], **extra: Sequence[Any]) -> Any:
    from dedup.spark import _frame as frame

    columns: dict[str, Sequence[Any]] = {"id": [d.id for d in docs], "text": [d.text for d in docs], **extra}
    schema = ", ".join(f"{name} {'long' if name == 'n' else 'string'}" for name in columns)
    return frame(spark, columns, schema)


def _both(spark: Any, docs: Sequence[Document], settings: Settings) -> tuple[Result, Any]:
    from dedup.spark import run_dataframe

    embedded = Deduplicator(settings).run(docs)
    run = run_dataframe(_frame(spark, docs), settings=settings)
    return embedded, run


def _assert_same(embedded: Result, run: Any) -> list[dict[str, Any]]:
    from dedup.spark import _to_arrow

    rows = sorted(_to_arrow(run.output).to_pylist(), key=lambda r: r["_dd_doc"])
    assert [r["id"] for r in rows] == [d.document.id for d in embedded.documents]  # run order: id order
    for row, doc in zip(rows, embedded.documents, strict=True):
        assert row["text"].encode("utf-8") == doc.cleaned.encode("utf-8"), doc.document.id
    expected = [json.loads(dumps(r)) for r in edit_records(embedded.documents, embedded.settings.fingerprint())]
    got = check_records([json.loads(r["_dd_record"]) for r in rows])
    for a, b in zip(expected, got, strict=True):
        assert a == b, a["document"]["id"]
    return got


def test_samples_give_the_embedded_results(spark: Any) -> None:
    embedded, run = _both(spark, _sample_documents(), Settings())
    records = _assert_same(embedded, run)
    assert sum(len(r["edits"]) for r in records) > 30
    typed = sorted((row.asDict(recursive=True) for row in run.edits.collect()), key=lambda r: r["document"]["id"])
    assert typed == records  # the edits DataFrame holds the records, field for field
    assert run.cluster_list() == embedded.clusters  # union-find on the driver


def test_a_generated_corpus_gives_the_embedded_results(spark: Any) -> None:
    docs = [*generate(150, seed=11), Document("zz-unique.txt", "Said once, and nowhere else in the corpus.\n")]
    embedded, run = _both(spark, docs, Settings())
    records = _assert_same(embedded, run)
    rules = {e["rule"] for r in records for e in r["edits"]}
    assert {"exact", "near", "truncated", "tail", "merged", "whitespace"} <= rules
    assert {e["reason"] for r in records for e in r["edits"]} >= {"long-enough", "repeated-run"}
    assert run.stats["paragraphs"] > 2500
    assert run.stats["collected_paragraphs"] < run.stats["paragraphs"]  # zz-unique.txt stays on the executors
    assert run.cluster_list() == embedded.clusters  # union-find on the driver
    in_spark = dataclasses.replace(run, cc_driver_max_edges=-1, _clusters=None)
    assert in_spark.cluster_list() == embedded.clusters  # large-star/small-star in Spark
    assert in_spark.stats["cc_rounds"] >= 2


def _prose(rnd: random.Random, words: Sequence[str], chars: int) -> str:
    out: list[str] = []
    size = 0
    while size < chars:
        sentence = " ".join(rnd.choices(words, k=rnd.randint(6, 14))).capitalize() + "."
        out.append(sentence)
        size += len(sentence) + 1
    return " ".join(out)


def test_over_long_text_gives_the_embedded_results(spark: Any) -> None:
    """Keys of 2,500 characters or more are verified against their 8 best candidates only, and
    the pieces of a line cut at 20,000 characters are never merge containers: Spark too."""
    rnd = random.Random(0)
    words = ["".join(rnd.choices("abcdefghilmnoprstuvz", k=rnd.randint(2, 9))) for _ in range(3000)]
    base = _prose(rnd, words, 1_500) + " It cost 1000 euros. " + _prose(rnd, words, 1_500)
    docs = [Document("p.txt", base + "\n")]
    # Ten copies that differ in the figure (very like p.txt, but not duplicates), and one near copy
    # with words dropped: it ranks below the ten for both ends, so it is never verified.
    docs += [Document(f"d{n:02d}.txt", base.replace("1000", str(1001 + n)) + "\n") for n in range(10)]
    docs.append(Document("q.txt", " ".join(w for w in base.split(" ") if rnd.random() > 0.04 or w == "1000") + "\n"))
    body = _prose(rnd, words, 26_000)
    head = body[: body.index(". ", 2_000) + 1]
    docs.append(Document("r-long-line.txt", f"Title\n{body} {head}\n{head}\n"))
    embedded, run = _both(spark, docs, Settings())
    _assert_same(embedded, run)
    edits = {d.document.id: d.edits for d in embedded.documents}
    assert all(edits[f"d{n:02d}.txt"] == () for n in range(10))
    assert edits["q.txt"] == ()  # never verified against p.txt: the cost of the cap, in both engines
    assert run.cluster_list() == embedded.clusters


def test_other_settings_give_the_embedded_results(spark: Any) -> None:
    docs = generate(60, seed=5)
    settings = Settings(keep="longest", boilerplate="remove", min_chars=40)
    embedded, run = _both(spark, docs, settings)
    records = _assert_same(embedded, run)
    assert any(e["rule"] == "boilerplate" for r in records for e in r["edits"])
    assert run.cluster_list() == embedded.clusters


def test_clean_dataframe_passes_other_columns_and_null_texts_through(spark: Any) -> None:
    from dedup.spark import clean_dataframe

    docs = _sample_documents()[:4]
    df = _frame(spark, [*docs, Document("none", "")], n=[*range(len(docs)), 99]).selectExpr(
        "id", "n", "CASE WHEN id = 'none' THEN NULL ELSE text END AS text")
    cleaned, edits = clean_dataframe(df)
    assert cleaned.columns == ["id", "n", "text"]
    rows = {r["id"]: r for r in cleaned.collect()}
    embedded = {d.document.id: d.cleaned for d in Deduplicator().run(docs).documents}
    assert {k: r["text"] for k, r in rows.items()} == {**embedded, "none": None}
    assert rows["none"]["n"] == 99
    assert sorted(r["document"]["id"] for r in edits.collect()) == sorted(embedded)


def test_two_documents_with_one_id_are_refused(spark: Any) -> None:
    from dedup.spark import clean_dataframe

    with pytest.raises(ValueError, match="share the id 'a'"):
        clean_dataframe(_frame(spark, [Document("a", "x"), Document("b", "y"), Document("a", "z")]))


# -- the command line ------------------------------------------------------------------------------


def _cli(args: Sequence[str], cwd: Path) -> Any:
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, list(args))
    finally:
        os.chdir(old)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_clean_and_scan_with_the_spark_engine_write_what_the_embedded_engine_writes(spark: Any, tmp_path: Path) -> None:
    inputs = [f"{case}/input" for case in CASES]
    outputs = {}
    for engine in ("embedded", "spark"):
        out = tmp_path / engine
        result = _cli(["clean", *inputs, "-o", str(out / "clean"), "--report", str(out / "edits.jsonl"),
                       "--engine", engine, "--spark-master", "local[2]", "-q"], SAMPLES)
        assert result.exit_code == 0, result.output
        outputs[engine] = _files(out)
        scanned = _cli(["scan", *inputs, "--engine", engine, "-q"], SAMPLES)
        assert scanned.exit_code == 0, scanned.output
        outputs[engine]["scan"] = scanned.stdout_bytes
    assert outputs["spark"] == outputs["embedded"]
    assert len(outputs["spark"]) > 10


def test_check_and_stdout_with_the_spark_engine(spark: Any) -> None:
    case = SAMPLES / "body-captured-twice.fr"
    checked = _cli(["clean", "input", "--check", "--engine", "spark"], case)
    assert checked.exit_code == 1 and "would clean input/article.txt" in checked.stderr
    out = _cli(["clean", "input/article.txt", "--engine", "spark", "-q"], case)
    assert out.exit_code == 0
    assert out.stdout_bytes == (case / "expected" / "article.txt").read_bytes()


def _records_input(folder: Path) -> tuple[Path, Path]:
    """A JSON Lines file and a Parquet file of records, with bad records of every kind."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    docs = generate(30, seed=9)
    lines = []
    for n, d in enumerate(docs[:20]):
        record: dict[str, Any] = {"text": d.text, "meta": {"n": n, "tags": ["a", "é"]}, "url": f"https://x/{n}"}
        if n % 5:
            record = {"id": d.id, **record}  # others get FILE:LINE as their id
        lines.append(json.dumps(record, ensure_ascii=n % 2 == 0))
    lines[3:3] = ["", "not json", json.dumps({"id": "no-text"}), json.dumps({"id": "num", "text": 7}),
                  json.dumps({"id": docs[1].id, "text": "a repeated id"})]
    jsonl = folder / "records.jsonl"
    jsonl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = docs[20:]
    table = pa.table({"id": [d.id for d in rows] + ["nulltext", rows[0].id],
                      "text": [d.text for d in rows] + [None, "the same id again"],
                      "score": [float(n) for n in range(len(rows) + 2)]})
    parquet = folder / "records.parquet"
    pq.write_table(table, parquet, row_group_size=4)
    return jsonl, parquet


def test_jsonl_and_parquet_records_with_the_spark_engine(spark: Any, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    _records_input(tmp_path)
    outputs: dict[str, dict[str, Any]] = {}
    for engine in ("embedded", "spark"):
        got: dict[str, Any] = {}
        for name in ("records.jsonl", "records.parquet"):
            suffix = name.rsplit(".", 1)[1]
            target, report = f"{engine}.{suffix}", f"{engine}-{suffix}-edits.jsonl"
            result = _cli(["clean", name, "-o", target, "--report", report, "--engine", engine, "-q"], tmp_path)
            assert result.exit_code == 3, result.output  # bad records are problems (named on stderr)
            got[name] = pq.read_table(tmp_path / target) if suffix == "parquet" else \
                (tmp_path / target).read_text(encoding="utf-8")
            got[report.split("-", 1)[1]] = (tmp_path / report).read_text(encoding="utf-8")
            got[name + ":stderr"] = result.stderr
        outputs[engine] = got
    embedded, on_spark = outputs["embedded"], outputs["spark"]
    assert "records.jsonl:5: not JSON" in on_spark["records.jsonl:stderr"]
    assert on_spark["records.jsonl"] == embedded["records.jsonl"]
    assert on_spark["records.parquet"].equals(embedded["records.parquet"])
    for report in ("jsonl-edits.jsonl", "parquet-edits.jsonl"):
        assert on_spark[report] == embedded[report]
        check_records(on_spark[report])
    assert embedded["records.jsonl"].count("\n") == 20  # the 20 good records, in order; the bad are skipped


def test_missing_pyspark_or_java_is_said_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    import dedup.spark as ds

    real_import = builtins.__import__

    def no_pyspark(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pyspark" or name.startswith("pyspark."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(builtins, "__import__", no_pyspark)
        with pytest.raises(ds.SparkUnavailable, match=r"pip install 'dedup\[spark\]'"):
            ds.session()
    with monkeypatch.context() as m:
        m.delenv("JAVA_HOME", raising=False)
        m.setenv("PATH", "/nonexistent")
        assert "Java runtime" in (ds.java_problem() or "")
        m.setattr(ds, "_active_session", lambda: None)
        with pytest.raises(ds.SparkUnavailable, match="Java runtime"):
            ds.session()
        result = CliRunner().invoke(cli, ["clean", "-", "--engine", "spark"], input=b"x\n")
        assert result.exit_code == 2 and "Java runtime" in result.stderr


def test_spark_engine_refuses_what_it_cannot_honour(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("A paragraph.\n", encoding="utf-8")
    (tmp_path / "r.jsonl").write_text('{"id": "a", "text": "x"}\n', encoding="utf-8")
    cases = [
        (["clean", "in", "-o", "out", "--index", "i.db"], "--engine spark does not take --index"),
        (["clean", "r.jsonl", "--text-key", "body"], "--engine spark does not take --text-key"),
        (["clean", "in"], "several inputs or a folder: give -o DIR, --in-place or --check"),
        (["clean", "r.jsonl", "--in-place"], "--in-place rewrites text files; give -o FILE for records"),
        (["clean", "r.jsonl", "-o", "in"], "-o in is a folder: for records, -o names the output file"),
    ]
    for args, message in cases:
        result = _cli([*args, "--engine", "spark"], tmp_path)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
    assert not (tmp_path / "out").exists() and not (tmp_path / "i.db").exists()
