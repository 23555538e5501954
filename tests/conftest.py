"""Shared fixtures and helpers for the test suite."""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import settings
from jsonschema import Draft202012Validator

from dedup import Deduplicator, Document, Settings
from dedup.apply import apply_edits
from dedup.keytexts import KeyTexts
from dedup.model import REMOVE, REPLACE, DocumentResult, Edit, ParagraphRef, Problem
from dedup.pipeline import Result
from dedup.records import Records, read_records, schema
from dedup.render.jsonl import dumps, edit_records

# Property tests: a quick profile for every run, a long one for fuzzing sessions
# (HYPOTHESIS_PROFILE=fuzz pytest tests/test_properties.py).
settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile("fuzz", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# The suite (and the commands it runs) keeps dedup's cache in a folder of its own, not the user's.
os.environ.setdefault("DEDUP_CACHE_DIR", tempfile.mkdtemp(prefix="dedup-test-cache-"))

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
# The shared data beside the repository (../shared); a git worktree one folder further down
# (e.g. wt/NAME) finds it one level up; DEDUP_SHARED names it explicitly.
SHARED = Path(os.environ.get("DEDUP_SHARED") or next(
    (p / "shared" for p in (REPO.parent, REPO.parent.parent) if (p / "shared").is_dir()), REPO.parent / "shared"))


@pytest.fixture
def span_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of keys of each ``KeyTexts.spans`` call (a chunk of pairs sent to the workers
    as spans of the key file), recorded as the test runs."""
    calls: list[int] = []
    real = KeyTexts.spans

    def counted(self: KeyTexts, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        calls.append(len(ids))
        return real(self, ids)

    monkeypatch.setattr(KeyTexts, "spans", counted)
    return calls


def run(texts: dict[str, str], **settings: object) -> Result:
    """Run the library on documents given as ``{id: text}``."""
    docs = [Document(doc_id, text) for doc_id, text in texts.items()]
    return Deduplicator(Settings(**settings)).run(docs)  # type: ignore[arg-type]


def removal(edit: Edit) -> tuple[ParagraphRef, float]:
    """The removed paragraph and verified score of a removal edit."""
    assert edit.op == REMOVE and edit.paragraph is not None and edit.score is not None
    return edit.paragraph, edit.score


def sentences(n: int, seed: int = 0) -> str:
    """``n`` made-up sentences on one line (for long-line tests), the same for the same seed."""
    rnd = random.Random(seed)
    words = ["harbour", "ferry", "library", "council", "reading", "pier", "river", "visitors", "room",
             "October", "Saturday", "north", "mouth", "lift", "former", "opened", "moored", "until"]
    return " ".join(" ".join(rnd.choice(words) for _ in range(rnd.randint(4, 14))).capitalize() + "."
                    for _ in range(n))


def cleaned(texts: dict[str, str], **settings: object) -> dict[str, str]:
    return {d.document.id: d.cleaned for d in run(texts, **settings).documents}


@pytest.fixture
def samples() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """One SparkSession for the whole test session: local[2], small shuffles, no UI. Skipped only
    when no Java runtime is found (scripts/test installs one); pyspark itself must be installed."""
    from dedup.spark import java_problem, session

    problem = java_problem()
    if problem is not None:
        pytest.skip(problem)
    spark = session("local[2]", app_name="dedup-tests", config={
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        # small jobs: the JIT's first tier and the serial collector start much faster
        "spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
        "spark.ui.enabled": "false",
        # keep several partitions even for small inputs: the per-partition numbering is exercised
        "spark.sql.adaptive.coalescePartitions.enabled": "false",
        "spark.driver.host": "127.0.0.1",
        "spark.sql.session.timeZone": "UTC",
    })
    yield spark
    spark.stop()


# -- edit records: every record the suite writes is checked against the shipped JSON Schema ------

VALIDATOR = Draft202012Validator(schema())


def check_records(lines: str | Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Edit records (JSON Lines text or decoded objects), each validated against the schema."""
    if isinstance(lines, str):
        records = [json.loads(line) for line in lines.split("\n") if line.strip()]
    else:
        records = list(lines)
    for rec in records:
        errors = sorted(VALIDATOR.iter_errors(rec), key=lambda e: list(e.absolute_path))
        assert not errors, f"not an edits.schema.json record: {errors[0].message} at {list(errors[0].absolute_path)}"
    return records


@pytest.fixture(autouse=True)
def _written_records_match_the_schema(request: pytest.FixtureRequest) -> Iterator[None]:
    """After every test that uses ``tmp_path``: every edit record it left there matches the schema."""
    tmp: Path | None = request.getfixturevalue("tmp_path") if "tmp_path" in request.fixturenames else None
    yield
    if tmp is None:
        return
    for path in sorted(tmp.rglob("*.jsonl")):
        text = path.read_text(encoding="utf-8", errors="replace")
        lines = [line for line in text.split("\n") if '"dedup.edits"' in line]
        check_records([json.loads(line) for line in lines if _is_json(line)])


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except ValueError:
        return False
    return True


def replace_edit(text: str, old: str, new: str, rule: str = "invisible", after: int = 0) -> Edit:
    """A text fix as the fixes stage makes them: ``old`` (first found from ``after``) becomes ``new``."""
    start = text.index(old, after)
    return Edit(REPLACE, start, start + len(old), old, new, rule, "", None, (), None, None, None)


def with_edits(doc_id: str, text: str, edits: Sequence[Edit], mode: str = "line",
               paragraphs: int = 1) -> DocumentResult:
    """A document result made by hand (text fixes do not come from the pipeline yet)."""
    ordered = tuple(sorted(edits, key=lambda e: e.start))
    return DocumentResult(Document(doc_id, text, doc_id), mode, paragraphs, ordered, apply_edits(text, ordered))


def records_of(results: Sequence[DocumentResult], problems: Sequence[Problem] = (),
               fingerprint: str = "sha256:0123456789abcdef") -> Records:
    """Write the edit records of ``results`` (validated against the schema) and read them back."""
    objs = check_records(list(edit_records(results, fingerprint, problems)))
    return read_records([dumps(o) for o in objs], "edits.jsonl")


# -- hostile scraped text, for every report format -----------------------------------------------------

SCRIPT = "<script>document.title='pwned';window.pwned=1</script>"
IMG = "<img src=x onerror=\"document.title='pwned';window.pwned=2\">"
MARKUP = "[bold red]not markup[/bold red] [link=https://evil.example]click[/link]"
ANSI = "\x1b[31mred\x1b[0m \x1b]0;pwned\x07 \x1b[2J"
BIDI = "total \u202e0001\u202c USD, \u2066isolated\u2069"
INVISIBLE_TEXT = "no\u00a0break, zero\u200bwidth, soft\u00adhyphen, \ufeffmark"
HOSTILE_ID = "evil/<img src=x onerror=\"window.pwned=3\">[bold]\x1b[31m\u202eid.txt"
HOSTILE_LINES = [
    f"{SCRIPT} The council opened a floating library on the old harbour, {IMG} in a former ferry.",
    f"{MARKUP} The ferry will stay moored at the north pier until October, then move on.",
    f"{ANSI} About eighty visitors fit in the reading room, which has a lift for wheelchairs.",
    f"{BIDI} and {INVISIBLE_TEXT}: the price list was scraped from the footer of every page.",
    "</script><!-- a comment opener --> ]]> </textarea> and the rest of a long enough line of text.",
]


def hostile_records() -> Records:
    """A run over hostile text: every line repeated (so it is removed beside its kept copy, one
    copy with a doubled space), a text fix whose old and new text are hostile too, and a problem."""
    first = "\n".join(HOSTILE_LINES) + "\n"
    second = "\n".join(line.replace(" The", "  The", 1) for line in HOSTILE_LINES) + "\n"
    result = run({HOSTILE_ID: first + second})
    assert all(sum(e.op == REMOVE for e in d.edits) == len(HOSTILE_LINES) for d in result.documents)
    fix_text = f"Intro line.\n{SCRIPT} and {ANSI}{BIDI}\n"
    fix = with_edits("evil/fix.txt", fix_text, [replace_edit(fix_text, BIDI, MARKUP, rule="<b>rule</b>")])
    return records_of([*result.documents, fix], [Problem(HOSTILE_ID, f"not valid UTF-8 {SCRIPT}", 2)])
