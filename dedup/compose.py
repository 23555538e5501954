"""Compose edits made in stages into one list of edits on the original text.

Text fixes run one after another (entities, then invisible characters, then whitespace …), each
on the output of the one before. The record must still speak of the *input*: every edit an input
span, the text that was there, and what replaced it. ``Composer`` keeps the changed regions as
``(input span, output span)`` pairs; an edit that touches an existing region merges with it, so
the final edits never overlap and applying them to the input gives the last stage's output.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise


@dataclass(frozen=True, slots=True)
class StageEdit:
    """An edit proposed by one stage, on that stage's input text."""

    start: int
    end: int
    new: str
    rule: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Region:
    """A changed region: ``original[in_start:in_end]`` became ``current[out_start:out_end]``."""

    in_start: int
    in_end: int
    out_start: int
    out_end: int
    rules: tuple[str, ...]
    notes: tuple[str, ...]


class Composer:
    """Accumulates staged edits over one text; ``current`` is the text after every stage so far."""

    def __init__(self, original: str) -> None:
        self.original = original
        self.current = original
        self._regions: list[Region] = []

    @property
    def regions(self) -> list[Region]:
        """Changed regions in order; regions whose text came back unchanged are dropped."""
        return [r for r in self._regions
                if self.original[r.in_start : r.in_end] != self.current[r.out_start : r.out_end]]

    def apply(self, edits: Sequence[StageEdit]) -> None:
        """Apply one stage's edits (non-overlapping, on ``current``).

        Edits are taken from the last to the first, so positions to their left stay valid.
        Regions to the right of the edit being applied are final for this stage: they only move
        by the length changes of the edits still to come, which are summed once at the end. Each
        edit therefore costs a few steps near its own position, not a pass over every region: a
        document with thousands of fixes (a CRLF on every line) stays linear.
        """
        text = self.current
        for e in edits:
            if not 0 <= e.start <= e.end <= len(text):
                raise ValueError(f"edit {e.start}-{e.end} outside the text")
        ordered = sorted((e for e in edits if text[e.start : e.end] != e.new), key=lambda e: (e.start, e.end))
        for a, b in pairwise(ordered):
            if b.start < a.end or a.start == a.end == b.start == b.end:
                raise ValueError(f"overlapping edits at {a.start}-{a.end} and {b.start}-{b.end}")
        if not ordered:
            return
        left = self._regions  # regions not yet passed, in order; edited only at the end
        left_ends = [r.out_end for r in left]
        done: list[tuple[Region, int]] = []  # final regions (right to left) and the delta when finalised
        delta = 0  # total length change of the edits applied so far
        content: dict[int, str] = {}  # text of the regions made in this stage (their spans hold edits)
        pieces: list[str] = []
        pos = len(text)
        for e in reversed(ordered):
            while left and left[-1].out_start >= e.end and not _touches(left[-1], e):
                done.append((left.pop(), delta))
                left_ends.pop()
            touched: list[Region] = []
            while left and _touches(left[-1], e):
                touched.append(left.pop())
                left_ends.pop()
            touched.reverse()
            merged = self._merged(e, touched, text, left, left_ends, content)
            left.append(merged)
            left_ends.append(merged.out_end)
            pieces.append(text[e.end : pos])
            pieces.append(e.new)
            pos = e.start
            delta += len(e.new) - (e.end - e.start)
        pieces.append(text[:pos])
        final = list(left)
        for r, at in reversed(done):
            shift = delta - at
            final.append(Region(r.in_start, r.in_end, r.out_start + shift, r.out_end + shift, r.rules, r.notes))
        self._regions = final
        self.current = "".join(reversed(pieces))

    def to_input(self, pos: int, end: bool = False) -> int:
        """The input position of an output position outside every changed region."""
        ends = [r.out_end for r in self._regions]
        i = bisect_right(ends, pos)
        if end:  # an end position stays before a deletion that sits exactly at it
            while i > 0 and self._regions[i - 1].out_start == self._regions[i - 1].out_end == pos:
                i -= 1
        if i == 0:
            return pos
        r = self._regions[i - 1]
        return pos - r.out_end + r.in_end

    def to_output(self, pos: int, end: bool = False) -> int:
        """The output position of an input position. A position inside a changed region snaps to
        the region's output start (or, with ``end``, its output end)."""
        starts = [r.in_start for r in self._regions]
        i = bisect_right(starts, pos)
        if i and self._regions[i - 1].in_start < pos < self._regions[i - 1].in_end:
            r = self._regions[i - 1]
            return r.out_end if end else r.out_start
        while i and self._regions[i - 1].in_end > pos:
            i -= 1
        if i == 0:
            return pos
        r = self._regions[i - 1]
        return pos - r.in_end + r.out_end

    @staticmethod
    def _merged(e: StageEdit, touched: list[Region], text: str, left: list[Region], left_ends: list[int],
                content: dict[int, str]) -> Region:
        """The region that ``e`` and the regions it touches become. ``left`` holds the regions to
        its left, for mapping an edit end outside every region back to the input; ``content`` the
        text of regions made earlier in this stage (to the right of ``e``, already edited)."""

        def to_input(pos: int, end: bool) -> int:
            k = bisect_right(left_ends, pos)
            if end:  # an end position stays before a deletion that sits exactly at it
                while k > 0 and left[k - 1].out_start == left[k - 1].out_end == pos:
                    k -= 1
            if k == 0:
                return pos
            r = left[k - 1]
            return pos - r.out_end + r.in_end

        first = touched[0] if touched else None
        last = touched[-1] if touched else None
        # An edit end that falls inside a touched region takes that region's input bound; one
        # outside every region maps through the unchanged text around it.
        in_start = to_input(e.start, False) if first is None or e.start < first.out_start else first.in_start
        if last is None or e.end > last.out_end:
            in_end = to_input(e.end, True) if last is None else e.end - last.out_end + last.in_end
        else:
            in_end = last.in_end
        out_start, out_end = e.start, e.end
        rules: list[str] = []
        notes: list[str] = []
        for r in touched:
            in_start, in_end = min(in_start, r.in_start), max(in_end, r.in_end)
            out_start, out_end = min(out_start, r.out_start), max(out_end, r.out_end)
            rules.extend(r.rules)
            notes.extend(r.notes)
        rules.append(e.rule)
        if e.note:
            notes.append(e.note)
        if last is not None and id(last) in content and e.end <= last.out_end:
            suffix = content[id(last)][e.end - last.out_start :]  # already holds the edits to the right
        else:
            suffix = text[e.end : out_end]
        new_text = text[out_start : e.start] + e.new + suffix
        region = Region(in_start, in_end, out_start, out_start + len(new_text),
                        tuple(dict.fromkeys(rules)), tuple(dict.fromkeys(notes)))
        content[id(region)] = new_text
        return region


def _touches(r: Region, e: StageEdit) -> bool:
    """True when an edit overlaps a region, or the two meet at a point where one is empty."""
    if r.out_start < e.end and e.start < r.out_end:
        return True
    if r.out_start == r.out_end:  # a deletion: merge when it lies inside the edit
        return e.start < r.out_start < e.end or (e.start == e.end == r.out_start)
    if e.start == e.end:  # an insertion inside or at the edge of a region
        return r.out_start <= e.start <= r.out_end
    return False
