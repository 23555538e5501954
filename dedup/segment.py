"""Split a document into paragraphs with exact character spans.

A document that has a blank line between two lines of text is split at blank lines (a paragraph
may then span several lines); any other document has one paragraph per non-blank line. Offsets are
Unicode code points of the decoded text, so ``text[start:end]`` is the paragraph exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")
_LEADING_WS = re.compile(r"\s*")

BLANK_LINE = "blank-line"
LINE = "line"


@dataclass(frozen=True, slots=True)
class Segments:
    """Paragraph spans of one document.

    ``starts``/``ends`` delimit each paragraph's text without surrounding whitespace;
    ``line_starts``/``line_ends`` delimit the whole lines it occupies (indentation included,
    line terminator excluded). Removing a paragraph removes whole lines, so the layout of the
    paragraphs around it is untouched.
    """

    mode: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    line_starts: tuple[int, ...]
    line_ends: tuple[int, ...]

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
        out.append((pos, content_end, text[pos:content_end].isspace() or pos == content_end))
        pos = line_end
    return out


def segment(text: str) -> Segments:
    """Find the paragraphs of ``text``; see the module docstring for the rule."""
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
    for first, last in groups:
        ls, le = lines[first][0], lines[last][1]
        lead = _LEADING_WS.match(text, ls, le)
        s = lead.end() if lead else ls
        e = le
        while e > s and text[e - 1].isspace():
            e -= 1
        starts.append(s)
        ends.append(e)
        line_starts.append(ls)
        line_ends.append(le)
    return Segments(mode, tuple(starts), tuple(ends), tuple(line_starts), tuple(line_ends))
