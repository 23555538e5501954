"""Turn decisions into edits, edits into cleaned text, and cleaned text plus edits back into the input."""

from __future__ import annotations

from collections.abc import Sequence

from dedup.model import Edit
from dedup.segment import Segments


def removal_spans(segments: Segments, removed: Sequence[int]) -> dict[int, tuple[int, int]]:
    """The input span to delete for each removed paragraph index.

    A paragraph goes with its whole lines and the separator after it, so the next paragraph keeps
    its own indentation. A paragraph with no kept paragraph after it goes with the separator
    *before* it instead, so the document keeps its final newline. A piece of a long paragraph
    goes with its text and the whitespace after it (the line keeps its indentation). Spans of
    neighbouring removals touch but never overlap.
    """
    gone = set(removed)
    n = len(segments)
    ls, le = segments.line_starts, segments.line_ends
    continued = segments.continued
    last_kept = max((i for i in range(n) if i not in gone), default=-1)
    first_kept = min((i for i in range(n) if i not in gone), default=n)
    spans: dict[int, tuple[int, int]] = {}
    for k in sorted(gone):
        if k < last_kept:
            spans[k] = (segments.starts[k] if k + 1 in continued else ls[k], ls[k + 1])
        elif first_kept < k:
            spans[k] = (le[k - 1], le[k])
        else:  # nothing kept at all: leave only the whitespace around the paragraphs
            spans[k] = (ls[k], ls[k + 1] if k + 1 < n else le[k])
    return spans


def apply_edits(text: str, edits: Sequence[Edit]) -> str:
    """The text with every edit applied. Edits must not overlap."""
    parts: list[str] = []
    pos = 0
    for e in sorted(edits, key=lambda e: e.start):
        if e.start < pos or text[e.start : e.end] != e.old:
            raise ValueError(f"edit at {e.start}-{e.end} does not match the text it applies to")
        parts.append(text[pos : e.start])
        parts.append(e.new)
        pos = e.end
    parts.append(text[pos:])
    return "".join(parts)


def output_starts(edits: Sequence[Edit]) -> list[int]:
    """Where each edit's ``new`` text starts in the cleaned text (edits in input order)."""
    shift = 0
    out: list[int] = []
    for e in sorted(edits, key=lambda e: e.start):
        out.append(e.start + shift)
        shift += len(e.new) - (e.end - e.start)
    return out


def restore(cleaned: str, edits: Sequence[Edit]) -> str:
    """The original text, rebuilt from the cleaned text and its edits alone."""
    ordered = sorted(edits, key=lambda e: e.start)
    parts: list[str] = []
    pos = 0
    for e, out_start in zip(ordered, output_starts(ordered), strict=True):
        if cleaned[out_start : out_start + len(e.new)] != e.new:
            raise ValueError(f"cleaned text does not hold the edit made at {e.start}")
        parts.append(cleaned[pos:out_start])
        parts.append(e.old)
        pos = out_start + len(e.new)
    parts.append(cleaned[pos:])
    return "".join(parts)
