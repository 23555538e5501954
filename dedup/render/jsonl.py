"""Edit records and clusters as JSON objects, one per line.

An edit record describes one document completely: which input it came from, the hashes of the
input and of the cleaned output, and every edit with its input span, its output position, the
text it removed, the whole lines it touched, the rule, and the kept copy (with its text) it was
verified against. Together with the cleaned text it is enough to rebuild the input byte for byte
(``dedup.apply.restore``), and on its own it is enough for every report (``dedup.render``).
The layout is ``dedup/schemas/edits.schema.json``, documented in ``docs/report.md``.

Offsets and hashes are about text: ``input.sha256`` is the SHA-256 of the decoded input encoded as
UTF-8 (for a UTF-8 input, the file's own bytes), ``output.sha256`` that of the cleaned text, which
is always written as UTF-8. A document decoded from another codec carries ``document.encoding``
(``"cp1252"``, ...): ``restore(cleaned, edits).encode(encoding)`` is then the original file, byte
for byte (the reader refuses a codec that would not give the same bytes back).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import orjson

from dedup import __version__
from dedup.apply import output_starts
from dedup.model import Cluster, DocumentResult, Edit, Member, ParagraphRef, Problem
from dedup.safe import json_text

SCHEMA = "dedup.edits"
SCHEMA_VERSION = 1
OFFSETS = "unicode-code-points"
KIND_DOCUMENT = "document"
KIND_PROBLEM = "problem"
# What ``json.dumps(obj, ensure_ascii=False, separators=(",", ":"))`` uses, made once: dumps
# builds a new encoder on every call with these arguments (a quarter of its time on a small record)
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def digest(data: bytes) -> str:
    """``sha256:`` and the hex SHA-256 of ``data``, as edit records write hashes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()
UTF8 = "utf-8"


def sha256(text: str) -> str:
    """The hash of the UTF-8 encoding of ``text`` (the bytes it was read from)."""
    return digest(text.encode("utf-8", "surrogatepass"))


def _ref(ref: ParagraphRef) -> dict[str, Any]:
    return {"doc": ref.doc, "index": ref.index, "span": [ref.start, ref.end]}


class _Lines:
    """Line numbers and whole-line context of spans of one text (lines end at ``\n``), asked for
    in order of position (a record's edits): each step counts and finds newlines only between
    the last span and this one, in C (``str.count``/``rfind``/``find``), so a document costs one
    pass whatever its edits; an index of every newline cost more than the edits needed. A
    span before the last is answered too, from the start of the text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._at = 0  # where the last span started
        self._newlines = 0  # newlines before it
        self._line_start = 0  # start of the line it lies on
        self._searched = -1  # the first newline at or after this position ...
        self._next = -1  # ... is this one (-1: none)

    def context(self, start: int, end: int, limit: int | None = None) -> dict[str, Any] | None:
        """The 1-based number of the line where ``start`` lies, the text of that line before
        ``start``, and the text after ``end`` up to and including the end of the line holding
        the span's last character: ``before + text[start:end] + after`` is whole lines. None
        when ``before`` and ``after`` together would be longer than ``limit``."""
        text = self.text
        if start < self._at:
            self._at = self._newlines = self._line_start = 0
        passed = text.count("\n", self._at, start)
        if passed:
            self._newlines += passed
            self._line_start = text.rfind("\n", self._at, start) + 1
        self._at = start
        line_start = self._line_start
        if end > start and text[end - 1] == "\n":
            line_end = end
        else:
            if not (0 <= self._searched <= end and (self._next < 0 or end <= self._next)):
                self._searched, self._next = end, text.find("\n", end)
            line_end = self._next + 1 if self._next >= 0 else len(text)
        if limit is not None and (start - line_start) + (line_end - end) > limit:
            return None
        return {"first": self._newlines + 1, "before": text[line_start:start], "after": text[end:line_end]}


def _edit(edit: Edit, out_start: int, lines: _Lines, kept_text: Callable[[ParagraphRef], str | None]) -> dict[str, Any]:
    return {
        "op": edit.op,
        "input": [edit.start, edit.end],
        "output": [out_start, out_start + len(edit.new)],
        "old": edit.old,
        "new": edit.new,
        "lines": _context(lines, edit),
        "rule": edit.rule,
        "reason": edit.reason,
        "paragraph": None if edit.paragraph is None
        else {"index": edit.paragraph.index, "span": [edit.paragraph.start, edit.paragraph.end]},
        "kept": [{"doc": k.doc, "index": k.index, "span": [k.start, k.end], "text": kept_text(k)} for k in edit.kept],
        "cluster": edit.cluster,
        "score": edit.score,
        "estimate": edit.estimate,
    }


# Whole-line context is left out (``lines`` is null) when the lines around an edit are longer than
# this: a piece of a megabyte line would otherwise copy the line into every one of its edits. The
# diff report names such documents; restore never needs the context.
MAX_LINE_CONTEXT = 4096


def _context(lines: _Lines, edit: Edit) -> dict[str, Any] | None:
    return lines.context(edit.start, edit.end, MAX_LINE_CONTEXT)


def _kept_text(text_of: Mapping[str, str], ref: ParagraphRef) -> str | None:
    """The kept copy's text, or None when the caller no longer holds its document (a copy from
    an earlier batch of a stream, or from a persistent index)."""
    text = text_of.get(ref.doc)
    return None if text is None else text[ref.start : ref.end]


def edit_record(result: DocumentResult, fingerprint: str, text_of: Mapping[str, str],
                kept_text: Callable[[ParagraphRef], str | None] | None = None,
                input_sha256: str | None = None, output_sha256: str | None = None) -> dict[str, Any]:
    """The JSON object for one document (``schema`` / ``version`` identify the layout).

    ``text_of`` maps document ids to their input text, for the text of each kept copy;
    ``kept_text``, when given, is asked for each kept copy's text instead. ``input_sha256``:
    ``sha256(text)`` when the caller has it already (from the bytes read); ``output_sha256``:
    ``sha256(result.cleaned)`` likewise (from the bytes about to be written).
    """
    if kept_text is None:
        def kept_text(ref: ParagraphRef) -> str | None:
            return _kept_text(text_of, ref)
    edits = sorted(result.edits, key=lambda e: e.start)
    text = result.document.text
    lines = _Lines(text) if edits else _Lines("")
    document: dict[str, Any] = {"id": result.document.id, "source": result.document.source}
    if result.document.encoding != UTF8:
        document["encoding"] = result.document.encoding
    text_hash = input_sha256 or sha256(text)
    # most are unchanged
    cleaned_hash = text_hash if result.cleaned == text else (output_sha256 or sha256(result.cleaned))
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "kind": KIND_DOCUMENT,
        "tool": f"dedup {__version__}",
        "settings": fingerprint,
        "document": document,
        "offsets": OFFSETS,
        "input": {"sha256": text_hash, "chars": len(text)},
        "output": {"sha256": cleaned_hash, "chars": len(result.cleaned)},
        "segmentation": result.mode,
        "paragraphs": result.paragraphs,
        "signals": result.signals(),
        "boilerplate": [{"index": b.paragraph.index, "span": [b.paragraph.start, b.paragraph.end],
                         "documents": b.documents} for b in result.boilerplate],
        "edits": [_edit(e, s, lines, kept_text) for e, s in zip(edits, output_starts(edits), strict=True)],
    }


def edit_records(results: Sequence[DocumentResult], fingerprint: str,
                 problems: Sequence[Problem] = ()) -> Iterator[dict[str, Any]]:
    """The records of a run: one per document (in the order given), then one per problem."""
    text_of = {r.document.id: r.document.text for r in results}
    for r in results:
        yield edit_record(r, fingerprint, text_of)
    for p in problems:
        yield problem_record(p)


def _member(m: Member) -> dict[str, Any]:
    out: dict[str, Any] = {"doc": m.paragraph.doc, "index": m.paragraph.index,
                           "span": [m.paragraph.start, m.paragraph.end], "status": m.status,
                           "reason": m.reason}
    if m.rule is not None:
        out["rule"] = m.rule
        out["score"] = m.score
        out["matched"] = [_ref(k) for k in m.kept]
    return out


def cluster_record(cluster: Cluster, text_of: Mapping[str, str]) -> dict[str, Any]:
    """One cluster: its canonical copy (with text) and every member with its status."""
    c = cluster.canonical
    return {
        "cluster": cluster.id,
        "size": len(cluster.members),
        "documents": len({m.paragraph.doc for m in cluster.members}),
        "canonical": {**_ref(c), "text": _kept_text(text_of, c)},
        "members": [_member(m) for m in cluster.members],
    }


def problem_record(problem: Problem) -> dict[str, Any]:
    """An input the run could not process: nothing was cleaned, so there is nothing to restore.
    ``line`` is 1-based and ``offset`` in bytes, when known."""
    return {"schema": SCHEMA, "version": SCHEMA_VERSION, "kind": KIND_PROBLEM,
            "source": problem.source, "line": problem.line, "offset": problem.offset,
            "problem": problem.message}


_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def dumps(obj: dict[str, Any], terminal: bool = False) -> str:
    """One JSON Lines record. Unicode line breaks that JSON leaves raw are escaped too, so even a
    reader that splits on them (Python's ``str.splitlines``) sees one record per line; lone
    surrogates (undecodable bytes in a file name) become ``\\udcXX`` escapes so the line is valid
    UTF-8, and ``terminal`` escapes controls too (``json_text``)."""
    return json_text(dumps_unescaped(obj), terminal=terminal)


def _compact(obj: dict[str, Any]) -> str:
    """``_COMPACT.encode(obj)``, by orjson (a sixth of the time, checks included: JSON was 4% of
    a run) whenever it gives the same text. It refuses a lone surrogate and an integer beyond 64
    bits, which json then writes. (It writes NaN and the infinities as null, where json writes
    what is not JSON: no record holds one.)"""
    try:
        out = orjson.dumps(obj)
    except TypeError:  # orjson.JSONEncodeError is one
        return _COMPACT.encode(obj)
    if _maybe_tiny_float(out):
        return _COMPACT.encode(obj)
    return out.decode("utf-8")


def _maybe_tiny_float(out: bytes) -> bool:
    """Whether orjson's output may hold a float below 1e-4, the one number it writes otherwise
    than json (0.00001 or 1e-7 where Python writes 1e-05 or 1e-07). Text that merely reads so
    goes through json too: the same line, only slower. A find loop: every record holds "e-"
    in words, and a regex for a digit before it tried every byte."""
    if b"0.0000" in out:
        return True
    at = out.find(b"e-")
    while at > 0:
        if 48 <= out[at - 1] <= 57 and at + 2 < len(out) and 48 <= out[at + 2] <= 57:
            return True
        at = out.find(b"e-", at + 2)
    return False


def dumps_unescaped(obj: dict[str, Any]) -> str:
    """``dumps`` but for the escapes of lone surrogates: for a writer whose strict UTF-8 encoding
    raises on them, which then escapes that line (``json_text``) and writes it again; every other
    line is written without the scan for them."""
    text = _compact(obj)
    if "\x85" in text or "\u2028" in text or "\u2029" in text:
        text = text.translate(_LINE_BREAKS)
    return text
