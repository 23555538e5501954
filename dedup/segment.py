"""Split a document into paragraphs with exact character spans.

A document that has a blank line between two lines of text is split at blank lines (a paragraph
may then span several lines); any other document has one paragraph per non-blank line. Offsets are
Unicode code points of the decoded text, so ``text[start:end]`` is the paragraph exactly.

A paragraph longer than ``MAX_PARAGRAPH_CHARS`` (a whole article scraped onto one line, a 100 MB
line) is matched as *pieces* of at most that many characters, so memory and time stay linear and
verification never compares two huge strings. Pieces end at sentence ends (then at whitespace, then
anywhere but inside a combining sequence). Where a piece ends is decided by the text just before
the cut (``_is_cut``: content-defined chunking) and by the distance from the previous cut (at least
``MAX_PARAGRAPH_CHARS // 8``, at most ``MAX_PARAGRAPH_CHARS``), never by where the paragraph
starts: the same passage yields the same pieces wherever it appears, so a body captured twice on
one line is found piece for piece, and removing a whole piece does not move the other cuts
(cleaning stays idempotent). Each piece is a unit with its own exact span; removing one removes
its text and the whitespace after it, inside the line.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")
_LEADING_WS = re.compile(r"\s*")
_NON_SPACE = re.compile(r"\S")

BLANK_LINE = "blank-line"
LINE = "line"

MAX_PARAGRAPH_CHARS = 20_000  # longer paragraphs are matched as pieces of at most this size
_CUT_WINDOW = 32  # characters before a cut that decide whether it is one
_MAX_MARK_RUN = 32  # a hard cut moves back at most this far to avoid splitting a combining sequence

# The gap after a sentence: its end mark and closing quotes or brackets, then whitespace (none
# needed after CJK full stops). Group 1 or 2 is the gap.
_SENTENCE_GAP = re.compile(r"[.!?…‼⁇⁈⁉][\"'”’»)\]]*(\s+)|[。！？][”’」』）)]*(\s*)")
_WORD_GAP = re.compile(r"(\s+)")


@dataclass(frozen=True, slots=True)
class Segments:
    """Paragraph spans of one document.

    ``starts``/``ends`` delimit each paragraph's text without surrounding whitespace;
    ``line_starts``/``line_ends`` delimit the whole lines it occupies (indentation included,
    line terminator excluded). Removing a paragraph removes whole lines, so the layout of the
    paragraphs around it is untouched.

    A paragraph split into pieces (see the module docstring) has one entry per piece; ``continued``
    holds the indices of the pieces after its first. A piece's line span runs from the paragraph's
    line start (first piece) or its own start, to its own end or the paragraph's line end (last piece).
    """

    mode: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    line_starts: tuple[int, ...]
    line_ends: tuple[int, ...]
    continued: frozenset[int] = field(default=frozenset())

    def __len__(self) -> int:
        return len(self.starts)


def _lines(text: str) -> list[tuple[int, int, bool]]:
    """(start, end-without-terminator, is_blank) for every line of ``text``."""
    if "\r" not in text:  # the common case: split on LF at C speed
        fast: list[tuple[int, int, bool]] = []
        pos = 0
        parts = text.split("\n")
        if parts and parts[-1] == "":
            parts.pop()  # the text ends with a line break: no empty last line
        for line in parts:
            end = pos + len(line)
            fast.append((pos, end, not line or line.isspace()))
            pos = end + 1
        return fast
    out: list[tuple[int, int, bool]] = []
    pos, n = 0, len(text)
    while pos < n:
        m = _LINE.match(text, pos)
        assert m is not None  # the pattern matches the empty string
        line_end = m.end()
        content_end = line_end
        if text.endswith("\r\n", 0, line_end):
            content_end -= 2
        elif line_end > pos and text[line_end - 1] in "\r\n":
            content_end -= 1
        out.append((pos, content_end, _NON_SPACE.search(text, pos, content_end) is None))
        pos = line_end
    return out


def segment(text: str, max_chars: int = MAX_PARAGRAPH_CHARS) -> Segments:
    """Find the paragraphs of ``text``; see the module docstring for the rule. Paragraphs longer
    than ``max_chars`` are split into pieces (``max_chars`` is a parameter for tests)."""
    lines = _lines(text)
    content = [i for i, (_, _, blank) in enumerate(lines) if not blank]
    has_blank_between = any(b - a > 1 for a, b in pairwise(content))
    groups: list[tuple[int, int]] = []  # (first line, last line) of each paragraph
    if has_blank_between:
        mode = BLANK_LINE
        for i in content:
            if groups and groups[-1][1] == i - 1:
                groups[-1] = (groups[-1][0], i)
            else:
                groups.append((i, i))
    else:
        mode = LINE
        groups = [(i, i) for i in content]
    starts: list[int] = []
    ends: list[int] = []
    line_starts: list[int] = []
    line_ends: list[int] = []
    continued: set[int] = set()
    for first, last in groups:
        ls, le = lines[first][0], lines[last][1]
        lead = _LEADING_WS.match(text, ls, le)
        s = lead.end() if lead else ls
        e = _content_end(text, s, le)
        if e - s <= max_chars:
            starts.append(s)
            ends.append(e)
            line_starts.append(ls)
            line_ends.append(le)
            continue
        pieces = split_long(text, s, e, max_chars)
        for k, (a, b) in enumerate(pieces):
            if k:
                continued.add(len(starts))
            starts.append(a)
            ends.append(b)
            line_starts.append(ls if k == 0 else a)
            line_ends.append(le if k == len(pieces) - 1 else b)
    return Segments(mode, tuple(starts), tuple(ends), tuple(line_starts), tuple(line_ends), frozenset(continued))


def _content_end(text: str, start: int, end: int) -> int:
    """``end`` moved back over trailing whitespace (without copying a long line to find it)."""
    e = end
    while e > start and e > end - 64 and text[e - 1].isspace():
        e -= 1
    if e > start and e == end - 64:  # a long run of trailing whitespace: rare, so copy
        e = start + len(text[start:end].rstrip())
    return e


def split_long(text: str, start: int, end: int, max_chars: int = MAX_PARAGRAPH_CHARS) -> list[tuple[int, int]]:
    """Pieces of ``text[start:end]`` (which has no whitespace at either end): non-empty spans of
    at most ``max_chars`` characters, in order, separated only by whitespace (or nothing, after a
    hard cut), each without whitespace at either end."""
    if max_chars < 2:
        raise ValueError("max_chars must be at least 2")
    out: list[tuple[int, int]] = []
    _split(text, start, end, _Sizes(max_chars, max(max_chars // 8, 1), max(max_chars // 4, 1)), 0, out)
    return out


@dataclass(frozen=True, slots=True)
class _Sizes:
    limit: int  # no piece is longer
    least: int  # no content-defined cut makes a shorter piece (repeated text would give tiny pieces)
    target: int  # a unit ends a piece with probability len / target


def _units(text: str, start: int, end: int, gap: re.Pattern[str]) -> Iterator[tuple[int, int]]:
    """The non-empty spans between the gaps found by ``gap`` in ``text[start:end]`` (lazily: a
    100 MB line is never held as a list of sentences)."""
    pos = start
    for m in gap.finditer(text, start, end):
        g = 1 if m.start(1) >= 0 else 2
        if m.start(g) > pos:
            yield pos, m.start(g)
        pos = m.end(g)
    if end > pos:
        yield pos, end


def _split(text: str, start: int, end: int, sizes: _Sizes, level: int, out: list[tuple[int, int]]) -> None:
    limit = sizes.limit
    if end - start <= limit:
        out.append((start, end))
        return
    if level == 2:
        _hard_cuts(text, start, end, limit, out)
        return
    open_start: int | None = None  # start of the piece being filled
    last = start  # end of the last unit in it
    for ua, ub in _units(text, start, end, _SENTENCE_GAP if level == 0 else _WORD_GAP):
        if ub - ua > limit:  # a sentence (or word) too long on its own: split it one level down
            if open_start is not None:
                out.append((open_start, last))
                open_start = None
            _split(text, ua, ub, sizes, level + 1, out)
            continue
        if open_start is not None and ub - open_start > limit:
            out.append((open_start, last))
            open_start = None
        if open_start is None:
            open_start = ua
        last = ub
        if ub - open_start >= sizes.least and _is_cut(text, ua, ub, sizes.target):
            out.append((open_start, ub))
            open_start = None
    if open_start is not None:
        out.append((open_start, last))


def _is_cut(text: str, ua: int, ub: int, target: int) -> bool:
    """Whether a piece ends after the unit ``text[ua:ub]``: with probability ``len / target``,
    decided by a hash of the unit's last characters (so by the text, not by its position)."""
    n = ub - ua
    if n >= target:
        return True
    h = zlib.crc32(text[max(ua, ub - _CUT_WINDOW) : ub].encode("utf-8", "surrogatepass"))
    return h * target < n << 32


def _hard_cuts(text: str, start: int, end: int, limit: int, out: list[tuple[int, int]]) -> None:
    """Cut a run without whitespace every ``limit`` characters, never before a combining mark or
    a low surrogate when that can be helped."""
    pos = start
    while end - pos > limit:
        cut = pos + limit
        back = cut
        while back > cut - _MAX_MARK_RUN and back > pos + 1 and _joins_previous(text[back]):
            back -= 1
        if _joins_previous(text[back]):
            back = cut
        out.append((pos, back))
        pos = back
    out.append((pos, end))


def _joins_previous(ch: str) -> bool:
    return unicodedata.category(ch) in ("Mn", "Mc", "Me") or "\udc00" <= ch <= "\udfff" or ch == "\u200d"
