"""The small frozen records passed between stages and returned to callers."""

from __future__ import annotations

from dataclasses import dataclass

REMOVE = "remove"  # a duplicate paragraph deleted (``new`` is empty)
REPLACE = "replace"  # a text fix: ``old`` replaced by ``new`` in place

BOILERPLATE = "boilerplate"  # the rule of a removal of every copy of a boilerplate line

# Why a duplicate was removed: long enough to stand on its own, or part of a repeated run of
# paragraphs (the body captured twice, byline and headings included).
ALONE = "long-enough"
IN_RUN = "repeated-run"


@dataclass(frozen=True, slots=True)
class Document:
    """One text to clean. ``id`` is stable and unique within a run (a relative path, a record
    id, or ``-`` for standard input); documents are processed in ``id`` order."""

    id: str
    text: str
    source: str | None = None
    encoding: str = "utf-8"  # the codec its bytes were decoded with (cleaned text is always written as UTF-8)


@dataclass(frozen=True, slots=True)
class ParagraphRef:
    """A paragraph: its document, its position, and its span (without surrounding whitespace)."""

    doc: str
    index: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Edit:
    """One change to one document; the single source of truth for output, reports and restore.

    ``start``/``end`` is the span of the input replaced by ``new`` (``old`` is its text), in
    Unicode code points of the decoded input. For a removal the span covers the paragraph's whole
    lines plus one separator, so the paragraphs around it keep their layout.

    Removals name the ``kept`` copies they were verified against, their ``cluster``, the verified
    ``score`` and the MinHash ``estimate``; text fixes (``op == "replace"``) have no kept copy,
    cluster, score or estimate, and ``paragraph`` is None when the fix lies between paragraphs.
    """

    op: str
    start: int
    end: int
    old: str
    new: str
    rule: str
    reason: str
    paragraph: ParagraphRef | None
    kept: tuple[ParagraphRef, ...]
    cluster: int | None
    score: float | None
    estimate: float | None


@dataclass(frozen=True, slots=True)
class Boilerplate:
    """A paragraph whose text occurs in ``documents`` documents of the input."""

    paragraph: ParagraphRef
    documents: int


@dataclass(frozen=True, slots=True)
class DocumentResult:
    """A document, how it was split, the edits made to it and the cleaned text.

    ``content_chars`` counts the characters of its paragraphs (whitespace between them
    excluded); ``boilerplate`` lists its boilerplate lines when they are detected.
    """

    document: Document
    mode: str
    paragraphs: int
    edits: tuple[Edit, ...]
    cleaned: str
    content_chars: int = 0
    boilerplate: tuple[Boilerplate, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.edits)

    def signals(self) -> dict[str, object]:
        """Per-document quality signals: the share of paragraphs and of characters removed as
        duplicates (Gopher-style duplicate fractions) and the number of fixes by rule, so a
        reviewer can spot documents a scraper mangled."""
        removed = [e for e in self.edits if e.op == REMOVE and e.paragraph is not None]
        fixes: dict[str, int] = {}
        for e in self.edits:
            if e.op == REPLACE:
                for rule in e.rule.split("+"):
                    fixes[rule] = fixes.get(rule, 0) + 1
        chars = sum(e.paragraph.end - e.paragraph.start for e in removed if e.paragraph is not None)
        return {
            "duplicate_paragraphs": round(len(removed) / self.paragraphs, 4) if self.paragraphs else 0.0,
            "duplicate_chars": round(chars / self.content_chars, 4) if self.content_chars else 0.0,
            "removed_paragraphs": len(removed),
            "fixes": dict(sorted(fixes.items())),
        }


@dataclass(frozen=True, slots=True)
class Member:
    """A paragraph in a cluster: the canonical copy, a removed copy, or a copy kept with a reason."""

    paragraph: ParagraphRef
    status: str  # "canonical" | "removed" | "kept"
    rule: str | None
    score: float | None
    reason: str
    kept: tuple[ParagraphRef, ...]


@dataclass(frozen=True, slots=True)
class Cluster:
    """Paragraphs linked by verified matches; ``members[0]`` is the canonical copy."""

    id: int
    members: tuple[Member, ...]

    @property
    def canonical(self) -> ParagraphRef:
        return self.members[0].paragraph


@dataclass(frozen=True, slots=True)
class Problem:
    """An input that could not be processed (or only partly): shown on stderr, never fatal.

    ``line`` (1-based) and ``offset`` (bytes from the start of the file) say where, when known.
    """

    source: str
    message: str
    line: int | None = None
    offset: int | None = None

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.message}"
