"""EDITS files back into typed records: what ``restore`` and every report read.

An EDITS file (``dedup clean --report``) holds one JSON object per line: a *document record* per
document of the run, then a *problem record* per input the run could not process (see
``docs/report.md`` and ``dedup/schemas/edits.schema.json``). The reader checks what the tools
rely on (schema and version, spans that fit the text they carry, output positions that follow
from the edits) without needing ``jsonschema``; a line it cannot use becomes an error naming
the file and line, and the other lines are read as usual.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from dedup.apply import output_starts
from dedup.model import Edit, ParagraphRef, Problem
from dedup.render.jsonl import KIND_DOCUMENT, KIND_PROBLEM, OFFSETS, SCHEMA, SCHEMA_VERSION


def schema() -> dict[str, Any]:
    """The JSON Schema of edit records (``dedup/schemas/edits.schema.json``)."""
    text = resources.files("dedup").joinpath("schemas", "edits.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


@dataclass(frozen=True, slots=True)
class TextFacts:
    """The hash (``sha256:`` + hex of the UTF-8 bytes) and length in code points of a text."""

    sha256: str
    chars: int


@dataclass(frozen=True, slots=True)
class LineContext:
    """The whole input lines an edit touches are ``before + old + after``; ``first`` is the
    1-based number of the first of them (lines end at ``\\n``)."""

    first: int
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class RecordedEdit:
    """One edit as recorded: the library's ``Edit``, where its ``new`` text sits in the cleaned
    text, the lines it touches, and the text of each kept copy (``None`` when not recorded)."""

    edit: Edit
    output_start: int
    lines: LineContext | None
    kept_text: tuple[str | None, ...]

    @property
    def paragraph_text(self) -> str:
        """The text the edit is about: the removed paragraph (without its separator) or, for a
        text fix, the replaced text."""
        e = self.edit
        if e.paragraph is None or e.new or not e.start <= e.paragraph.start <= e.paragraph.end <= e.end:
            return e.old
        return e.old[e.paragraph.start - e.start : e.paragraph.end - e.start]

    @property
    def counterpart(self) -> str:
        """What the edit's text is shown beside: the kept copies (one per line, for a merged
        line), or for a text fix its new text. Kept copies without recorded text are empty."""
        if not self.edit.kept:
            return self.edit.new
        return "\n".join(t or "" for t in self.kept_text)


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """Everything one run did to one document. ``line`` is the record's line in its EDITS file."""

    id: str
    source: str | None
    tool: str
    settings: str
    input: TextFacts
    output: TextFacts
    segmentation: str
    paragraphs: int
    edits: tuple[RecordedEdit, ...]
    line: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.edits)

    @property
    def chars_removed(self) -> int:
        return self.input.chars - self.output.chars

    @property
    def share_removed(self) -> float:
        """The share of the input's characters the run removed (0 for an empty input)."""
        return self.chars_removed / self.input.chars if self.input.chars else 0.0


@dataclass(slots=True)
class Records:
    """The contents of an EDITS file: document records (in file order), the inputs the run could
    not process (its problem records), and ``errors``: lines of the file that could not be read."""

    documents: list[DocumentRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)


class RecordError(ValueError):
    """A record that does not describe a document the way the tools need."""


class _Obj:
    """Typed access to one JSON object; a missing or mistyped field raises ``RecordError``."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise RecordError(f"{where}: expected an object")
        self.data: dict[str, Any] = data
        self.where = where

    def _get(self, key: str) -> Any:
        if key not in self.data:
            raise RecordError(f"{self.where}: missing {key!r}")
        return self.data[key]

    def _bad(self, key: str, expected: str) -> RecordError:
        return RecordError(f"{self.where}.{key}: expected {expected}")

    def string(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str):
            raise self._bad(key, "a string")
        return value

    def opt_string(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise self._bad(key, "a string or null")
        return value

    def count(self, key: str) -> int:
        value = self._get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self._bad(key, "a non-negative integer")
        return value

    def opt_count(self, key: str) -> int | None:
        return None if self.data.get(key) is None else self.count(key)

    def opt_number(self, key: str) -> float | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self._bad(key, "a number or null")
        return float(value)

    def obj(self, key: str) -> _Obj:
        return _Obj(self._get(key), f"{self.where}.{key}")

    def array(self, key: str) -> list[Any]:
        value = self._get(key)
        if not isinstance(value, list):
            raise self._bad(key, "an array")
        return value

    def span(self, key: str) -> tuple[int, int]:
        value = self._get(key)
        if isinstance(value, list) and len(value) == 2:
            start, end = value
            if type(start) is int and type(end) is int and 0 <= start <= end:
                return start, end
        raise self._bad(key, "[start, end] with 0 <= start <= end")


def _kind(obj: _Obj) -> str:
    kind = obj.data.get("kind")
    if kind is None:  # written before records carried a kind
        if "document" in obj.data:
            return KIND_DOCUMENT
        if "problem" in obj.data:
            return KIND_PROBLEM
        raise RecordError("neither a document record nor a problem record")
    if kind not in (KIND_DOCUMENT, KIND_PROBLEM):
        raise RecordError(f"unknown record kind {kind!r}")
    return str(kind)


def _check_schema(obj: _Obj, required: bool) -> None:
    if not required and "schema" not in obj.data:
        return
    if obj.data.get("schema") != SCHEMA:
        raise RecordError(f"not a {SCHEMA} record (schema {obj.data.get('schema')!r})")
    version = obj.data.get("version")
    if version != SCHEMA_VERSION:
        raise RecordError(f"record version {version!r}: this dedup reads version {SCHEMA_VERSION}")


def _edit(obj: _Obj, doc_id: str) -> RecordedEdit:
    start, end = obj.span("input")
    out_start, out_end = obj.span("output")
    old, new = obj.string("old"), obj.string("new")
    if end - start != len(old):
        raise RecordError(f"{obj.where}: 'old' has {len(old)} characters, its input span {end - start}")
    if out_end - out_start != len(new):
        raise RecordError(f"{obj.where}: 'new' has {len(new)} characters, its output span {out_end - out_start}")
    paragraph = None
    if obj.data.get("paragraph") is not None:
        para = obj.obj("paragraph")
        p_start, p_end = para.span("span")
        paragraph = ParagraphRef(doc_id, para.count("index"), p_start, p_end)
    kept: list[ParagraphRef] = []
    kept_text: list[str | None] = []
    for n, item in enumerate(obj.array("kept")):
        k = _Obj(item, f"{obj.where}.kept[{n}]")
        k_start, k_end = k.span("span")
        kept.append(ParagraphRef(k.string("doc"), k.count("index"), k_start, k_end))
        kept_text.append(k.opt_string("text"))
    lines = None
    if obj.data.get("lines") is not None:
        ctx = obj.obj("lines")
        first = ctx.count("first")
        if first < 1:
            raise RecordError(f"{ctx.where}.first: expected a line number from 1")
        lines = LineContext(first, ctx.string("before"), ctx.string("after"))
    edit = Edit(op=obj.string("op"), start=start, end=end, old=old, new=new, rule=obj.string("rule"),
                reason=obj.string("reason"), paragraph=paragraph, kept=tuple(kept),
                cluster=obj.opt_count("cluster"), score=obj.opt_number("score"), estimate=obj.opt_number("estimate"))
    return RecordedEdit(edit, out_start, lines, tuple(kept_text))


def parse_document(data: object, line: int = 0) -> DocumentRecord:
    """A document record from its decoded JSON; ``RecordError`` says what is wrong with it."""
    obj = _Obj(data, "record")
    _check_schema(obj, required=True)
    offsets = obj.data.get("offsets")
    if offsets != OFFSETS:
        raise RecordError(f"offsets {offsets!r}: this dedup reads {OFFSETS!r}")
    document = obj.obj("document")
    doc_id = document.string("id")
    inp, out = obj.obj("input"), obj.obj("output")
    facts_in = TextFacts(inp.string("sha256"), inp.count("chars"))
    facts_out = TextFacts(out.string("sha256"), out.count("chars"))
    edits = tuple(_edit(_Obj(e, f"edits[{n}]"), doc_id) for n, e in enumerate(obj.array("edits")))
    previous_end = 0
    for e in edits:
        if e.edit.start < previous_end:
            raise RecordError("edits overlap or are not in input order")
        previous_end = e.edit.end
    if edits and edits[-1].edit.end > facts_in.chars:
        raise RecordError("an edit lies beyond the end of the input")
    expected = output_starts([e.edit for e in edits])
    if [e.output_start for e in edits] != expected:
        raise RecordError("output spans do not follow from the input spans and the new texts")
    delta = sum(len(e.edit.new) - len(e.edit.old) for e in edits)
    if facts_in.chars + delta != facts_out.chars:
        raise RecordError("input and output lengths do not match the edits")
    return DocumentRecord(
        id=doc_id, source=document.opt_string("source"), tool=obj.string("tool"), settings=obj.string("settings"),
        input=facts_in, output=facts_out, segmentation=obj.string("segmentation"),
        paragraphs=obj.count("paragraphs"), edits=edits, line=line,
    )


def parse_problem(data: object) -> Problem:
    obj = _Obj(data, "record")
    _check_schema(obj, required=False)
    line = obj.opt_count("line")
    return Problem(obj.string("source"), obj.string("problem"), line)


def read_records(lines: Iterable[str | bytes], source: str) -> Records:
    """Parse the lines of an EDITS file (``source`` names it in errors). Blank lines are skipped."""
    records = Records()
    for number, raw in enumerate(lines, 1):
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            if not text.strip():
                continue
            data = json.loads(text)
            kind = _kind(_Obj(data, "record"))
            if kind == KIND_PROBLEM:
                records.problems.append(parse_problem(data))
            else:
                records.documents.append(parse_document(data, number))
        except UnicodeDecodeError as exc:
            records.errors.append(Problem(source, f"not valid UTF-8 (byte offset {exc.start} of the line)", number))
        except json.JSONDecodeError as exc:
            records.errors.append(Problem(source, f"not JSON ({exc.msg}, column {exc.colno})", number))
        except RecordError as exc:
            records.errors.append(Problem(source, f"not a usable edit record: {exc}", number))
    return records


def load_records(path: str | Path) -> Records:
    """Read an EDITS file; an unreadable file is an error naming it."""
    try:
        with open(path, "rb") as fh:
            return read_records(fh, str(path))
    except OSError as exc:
        return Records(errors=[Problem(str(path), exc.strerror or str(exc))])
