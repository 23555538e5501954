"""Edit records and clusters as JSON objects, one per line.

An edit record describes one document completely: which input it came from, the hashes of the
input and of the cleaned output, and every edit with its input span, its output position, the
text it removed, the rule, and the kept copy it was verified against. Together with the cleaned
text it is enough to rebuild the input byte for byte (``dedup.apply.restore``).

Offsets and hashes are about text: ``input.sha256`` is the SHA-256 of the decoded input encoded as
UTF-8 (for a UTF-8 input, the file's own bytes), ``output.sha256`` that of the cleaned text, which
is always written as UTF-8. A document decoded from another codec carries ``document.encoding``
(``"cp1252"``, ...): ``restore(cleaned, edits).encode(encoding)`` is then the original file, byte
for byte (the reader refuses a codec that would not give the same bytes back).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from dedup import __version__
from dedup.apply import output_starts
from dedup.model import Cluster, DocumentResult, Edit, Member, ParagraphRef, Problem
from dedup.safe import json_text

SCHEMA = "dedup.edits"
SCHEMA_VERSION = 1
OFFSETS = "unicode-code-points"
UTF8 = "utf-8"


def sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _ref(ref: ParagraphRef) -> dict[str, Any]:
    return {"doc": ref.doc, "index": ref.index, "span": [ref.start, ref.end]}


def _edit(edit: Edit, out_start: int) -> dict[str, Any]:
    return {
        "op": edit.op,
        "input": [edit.start, edit.end],
        "output": [out_start, out_start + len(edit.new)],
        "old": edit.old,
        "new": edit.new,
        "rule": edit.rule,
        "reason": edit.reason,
        "paragraph": None if edit.paragraph is None
        else {"index": edit.paragraph.index, "span": [edit.paragraph.start, edit.paragraph.end]},
        "kept": [_ref(k) for k in edit.kept],
        "cluster": edit.cluster,
        "score": edit.score,
        "estimate": edit.estimate,
    }


def edit_record(result: DocumentResult, fingerprint: str) -> dict[str, Any]:
    """The JSON object for one document (``schema`` / ``version`` identify the layout)."""
    edits = sorted(result.edits, key=lambda e: e.start)
    document: dict[str, Any] = {"id": result.document.id, "source": result.document.source}
    if result.document.encoding != UTF8:
        document["encoding"] = result.document.encoding
    return {
        "schema": SCHEMA,
        "version": SCHEMA_VERSION,
        "tool": f"dedup {__version__}",
        "settings": fingerprint,
        "document": document,
        "offsets": OFFSETS,
        "input": {"sha256": sha256(result.document.text), "chars": len(result.document.text)},
        "output": {"sha256": sha256(result.cleaned), "chars": len(result.cleaned)},
        "segmentation": result.mode,
        "paragraphs": result.paragraphs,
        "edits": [_edit(e, s) for e, s in zip(edits, output_starts(edits), strict=True)],
    }


def _member(m: Member) -> dict[str, Any]:
    out: dict[str, Any] = {"doc": m.paragraph.doc, "index": m.paragraph.index,
                           "span": [m.paragraph.start, m.paragraph.end], "status": m.status,
                           "reason": m.reason}
    if m.rule is not None:
        out["rule"] = m.rule
        out["score"] = m.score
        out["matched"] = [_ref(k) for k in m.kept]
    return out


def cluster_record(cluster: Cluster, text_of: dict[str, str]) -> dict[str, Any]:
    """One cluster: its canonical copy (with text) and every member with its status."""
    c = cluster.canonical
    return {
        "cluster": cluster.id,
        "size": len(cluster.members),
        "documents": len({m.paragraph.doc for m in cluster.members}),
        "canonical": {**_ref(c), "text": text_of[c.doc][c.start : c.end]},
        "members": [_member(m) for m in cluster.members],
    }


def problem_record(problem: Problem) -> dict[str, Any]:
    """An input that could not be processed: the message, the file, and where in it (``line``,
    1-based; ``offset``, in bytes), when known."""
    return {"problem": problem.message, "source": problem.source, "line": problem.line,
            "offset": problem.offset}


def dumps(obj: dict[str, Any], terminal: bool = False) -> str:
    """One JSON line; lone surrogates (undecodable bytes in a file name) become ``\\udcXX``
    escapes so the line is valid UTF-8, and ``terminal`` escapes controls too (``json_text``)."""
    return json_text(json.dumps(obj, ensure_ascii=False, separators=(",", ":")), terminal=terminal)
