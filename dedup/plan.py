"""From verified matches to decisions: which paragraph goes, and which copy it leaves behind.

The rules, in the order they apply (to the paragraphs of one batch; everything indexed earlier
outranks the batch and is never changed):

1. *Sources.* A paragraph's sources are the paragraphs that outrank it under the keep rule
   (``first``: earlier in input order; ``longest``: longer, then earlier) and that it verifiably
   duplicates (``verify``), within its document or across documents as the scope allows.
2. *Standing.* A duplicate stands on its own when its key has at least ``min_chars`` characters
   and it is not a list item. Short lines and list items repeat legitimately (menus, schedules,
   "Summary", "- Eintritt: 44,90 €"), so they are never removed on their own.
3. *Runs.* Neighbouring duplicates whose sources are neighbours too (within ``run_window``
   paragraphs of each other, in one document) form a repeated run: the body captured twice, a
   syndicated copy. Every member of a run that holds at least one standing duplicate may go,
   short lines and list items included.
4. *Greedy, in rank order.* A paragraph that may go is removed in favour of its best source whose
   paragraphs are all still kept, so every removal points at a kept copy it was verified against.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from dedup.compiled import extension
from dedup.index import Index
from dedup.model import ALONE, IN_RUN
from dedup.settings import KEEP_LONGEST, SCOPE_DOCUMENT, Settings
from dedup.verify import EXACT, MERGED, NEAR, KeyMatch, Verifier

_LIST_ITEM = re.compile(r"^(?:[-*+•·▪►‣◦○●■□➢➤→]|\d{1,3}[.)]|[a-z]\))\s")
MAX_SOURCES = 8  # per kept key: enough to find run neighbours without quadratic blow-up
MIN_MERGE_PART = 15  # characters of key
MIN_MERGE_SHARE = 0.05  # of the merged line
# Paragraph offsets (relative to a part found by LSH) tried as the pieces of a merged line; a gap
# of one lets a merged line skip a paragraph the copy left out (a widget between two paragraphs).
_MERGE_WINDOWS = ((-1, 0), (0, 1), (-2, 0), (0, 2), (-1, 0, 1), (-2, -1, 0), (0, 1, 2))
_UNSCORED = -1.0  # not a similarity: no window of these keys was compared yet
_U64 = (1 << 64) - 1  # figure prints add up modulo 2**64
_REACH = 2  # the farthest any window reaches from its part, either way
# For each window and each place of the part in the stretch ``q - 2 .. q + 2`` cut at the
# document's ends: the window's offsets, and a getter of its members from that stretch.
_WINDOW_GETTERS = {
    shift: [(offsets, itemgetter(*(shift + d for d in offsets))) for offsets in _MERGE_WINDOWS]
    for shift in range(_REACH + 1)
}
_compiled = extension()
# python_merge_windows compiled, for an index whose columns are arrays (a Spark driver's figure
# prints are computed as read: it takes the Python loop)
_merge_windows = None if _compiled is None else _compiled.merge_windows


def is_list_item(key: str) -> bool:
    """A bullet or numbered line ("- …", "• …", "1. …", "a) …")."""
    return _LIST_ITEM.match(key) is not None


@dataclass(frozen=True, slots=True)
class Source:
    """A verified reason to remove a paragraph: the kept paragraph(s), the rule and the score."""

    kept: tuple[int, ...]
    rule: str
    score: float
    key: int  # key id the match was verified against (for the MinHash estimate)


@dataclass(frozen=True, slots=True)
class Decision:
    source: Source
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    """Decisions for the paragraphs ``lo..hi`` of the index (one batch)."""

    lo: int
    hi: int
    sources: dict[int, list[Source]]
    removed: dict[int, Decision]
    standing: frozenset[int]
    in_run: frozenset[int]


WINDOW_SCORES_KEPT = 1 << 16  # window scores a planner remembers across batches (about 16 MB)


def python_merge_windows(para_key: Sequence[int], key_len: Sequence[int], prints: Sequence[int], first: int, end: int,
                         q: int, gid: int, min_part: float, shortest: int, longest: int,
                         own_print: Callable[[], int]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """The windows around paragraph ``q`` (members from ``first`` to ``end``) that could be
    paragraph ``gid`` run together, as (paragraphs, keys), in ``_MERGE_WINDOWS`` order: every
    member's key at least ``min_part`` characters long, the joined length between ``shortest``
    and ``longest`` (these turn down most windows), ``gid`` not a member, and the members' figure
    prints summing to ``own_print()`` (asked when first needed). A window joins its members with
    spaces, so its figures are theirs and its print the sum of theirs; the near rule asks the
    same figures of both sides, and most windows that pass on length fail on that, without a
    text read or joined. ``_kernels.merge_windows`` is the same loop, compiled."""
    out: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
    stretch = tuple(range(first, end))
    stretch_keys = tuple(para_key[first:end])
    stretch_lengths = tuple(key_len[k] for k in stretch_keys)
    for offsets, members in _WINDOW_GETTERS[q - first]:
        if q + offsets[0] < first or q + offsets[-1] >= end:
            continue
        lengths: tuple[int, ...] = members(stretch_lengths)
        if min(lengths) < min_part:
            continue  # every piece must carry real text, not a stray label
        if not shortest <= sum(lengths) + len(lengths) - 1 <= longest:
            continue  # the joined text could not reach the threshold
        window: tuple[int, ...] = members(stretch)
        if gid in window:
            continue
        window_keys: tuple[int, ...] = members(stretch_keys)
        if sum([prints[k] for k in window_keys]) & _U64 != own_print():
            continue
        out.append((window, window_keys))
    return out


class _Lazy:
    """A value computed when first asked for."""

    __slots__ = ("_get", "_value")

    def __init__(self, get: Callable[[], int]) -> None:
        self._get: Callable[[], int] | None = get
        self._value = 0

    def __call__(self) -> int:
        if self._get is not None:
            self._value, self._get = self._get(), None
        return self._value


@dataclass(slots=True)
class WindowCache:
    """Each merged-line window's score against a paragraph's key (None: no match), by key ids:
    what a window costs to find out once its figures agree."""

    scores: dict[tuple[int, tuple[int, ...]], float | None] = field(default_factory=dict)

    def clear(self) -> None:
        self.scores.clear()


class Planner:
    """Builds a ``Plan`` for one batch. ``windows`` may be kept across batches by the caller: a
    merged-line score depends on the key texts only, and a page scraped again and again asks
    for the same windows batch after batch. It is only a cache (emptied when it holds
    ``WINDOW_SCORES_KEPT`` scores), and valid as long as key ids keep their texts: a caller that
    rolls an index back must empty it."""

    def __init__(self, settings: Settings, verifier: Verifier, windows: WindowCache | None = None) -> None:
        self.settings = settings
        self.verifier = verifier
        self._kept_windows = windows  # None: kept for one plan call only
        self._windows = WindowCache()

    def plan(self, index: Index, lo: int, hi: int) -> Plan:
        if self._kept_windows is None:
            self._windows = WindowCache()  # (the Spark driver plans again once it has fetched texts)
        else:
            self._windows = self._kept_windows
            if len(self._windows.scores) >= WINDOW_SCORES_KEPT:
                self._windows.clear()
        rank = self._ranker(index, lo, hi)
        sources: dict[int, list[Source]] = {}
        para_key, matches, containers = index.para_key, index.matches, index.containers
        for gid in range(lo, hi):
            key = para_key[gid]
            if key not in matches and key not in containers and index.seen_once(key):
                continue  # most paragraphs: nothing to compare with
            found = self._sources(index, gid, lo, rank)
            if found:
                sources[gid] = found
        self._fill_gaps(index, lo, hi, rank, sources)
        keys, min_chars = index.keys, self.settings.min_chars
        standing = frozenset(
            gid for gid in sources
            if index.key_len[index.para_key[gid]] >= min_chars and not is_list_item(keys[index.para_key[gid]])
        )
        in_run = self._runs(index, sources, standing)
        removed: dict[int, Decision] = {}
        for gid in sorted(standing | in_run, key=rank):
            for src in sources[gid]:
                if not any(index.removed[k] or k in removed for k in src.kept):
                    removed[gid] = Decision(src, ALONE if gid in standing else IN_RUN)
                    break
        return Plan(lo, hi, sources, removed, standing, in_run)

    # -- ranking -------------------------------------------------------------------------------

    def _ranker(self, index: Index, lo: int, hi: int) -> Callable[[int], tuple[int, int, int]]:
        """Earlier batches outrank this one; inside it, input order or longest first."""
        longest = self.settings.keep == KEEP_LONGEST

        def rank(gid: int) -> tuple[int, int, int]:
            if gid < lo:
                return (0, 0, gid)
            return (1, -index.key_len[index.para_key[gid]] if longest else 0, gid)

        return rank

    # -- sources -------------------------------------------------------------------------------

    def _candidates(self, index: Index, kept_key: int, gid: int, lo: int,
                    rank: Callable[[int], tuple[int, int, int]]) -> list[int]:
        """Occurrences of ``kept_key`` that outrank ``gid`` and are in scope: the ones nearest
        to ``gid`` in its own document first (and the first one there), then the earliest
        elsewhere."""
        occ = index.occurrences(kept_key)
        if len(occ) == 1 and self.settings.keep != KEEP_LONGEST:
            # nearly every call (a key seen once): what the rule below gives for one occurrence
            q = occ[0]
            if q >= gid or (self.settings.scope == SCOPE_DOCUMENT and q < index.doc_range(index.para_doc[gid])[0]):
                return []
            return [q]
        return self._among(index, occ, gid, lo, rank)

    def _among(self, index: Index, occ: Sequence[int], gid: int, lo: int,
               rank: Callable[[int], tuple[int, int, int]]) -> list[int]:
        """``_candidates`` among the occurrences ``occ`` of a key, in input order."""
        if self.settings.keep == KEEP_LONGEST:
            own = rank(gid)
            limit = bisect_left(occ, lo)
            limit += sum(1 for q in occ[limit:] if rank(q) < own)  # occurrences of one key share a length
        else:
            limit = bisect_left(occ, gid)
        doc = index.para_doc[gid]
        d_lo, d_hi = index.doc_range(doc)
        a = bisect_left(occ, d_lo, 0, limit)
        b = bisect_left(occ, d_hi, a, limit)
        here = bisect_left(occ, gid, a, b)
        same_doc = [q for q in occ[max(a, here - MAX_SOURCES) : min(b, here + MAX_SOURCES)] if q != gid]
        same_doc.sort(key=lambda q: abs(q - gid))
        out = same_doc[:MAX_SOURCES]
        if a < b and occ[a] != gid and occ[a] not in out:
            out.append(occ[a])  # the first copy in the document: the likeliest to be kept
        if self.settings.scope != SCOPE_DOCUMENT:
            out.extend([*occ[: min(a, MAX_SOURCES)], *occ[b : min(limit, b + MAX_SOURCES)]][:MAX_SOURCES])
        return out

    def _sources(self, index: Index, gid: int, lo: int, rank: Callable[[int], tuple[int, int, int]]) -> list[Source]:
        key = index.para_key[gid]
        found: list[Source] = [Source((q,), EXACT, 1.0, key) for q in self._candidates(index, key, gid, lo, rank)]
        m: KeyMatch
        for m in index.matches.get(key, ()):
            found.extend(Source((q,), m.rule, m.score, m.kept) for q in self._candidates(index, m.kept, gid, lo, rank))
        parts = index.containers.get(key)
        if parts:
            found.extend(self._merged(index, gid, lo, rank, parts))
        doc = index.para_doc[gid]
        found.sort(key=lambda s: (-s.score, index.para_doc[s.kept[0]] != doc, rank(s.kept[0])))
        return found

    def _merged(self, index: Index, gid: int, lo: int, rank: Callable[[int], tuple[int, int, int]],
                parts: list[int]) -> list[Source]:
        """Sources where this paragraph is two or three consecutive kept paragraphs run together."""
        own_key = index.para_key[gid]
        key: str | None = None  # read when first needed
        scores = self._windows.scores
        own_len = index.key_len[own_key]
        min_part = max(MIN_MERGE_PART, MIN_MERGE_SHARE * own_len)
        shortest, longest = self.verifier.matchable_lengths(own_len)  # of a joined window
        out: list[Source] = []
        seen: set[tuple[int, ...]] = set()
        own = rank(gid)
        first_kept = self.settings.keep != KEEP_LONGEST  # then outranking is being earlier
        para_key, key_len, prints = index.para_key, index.key_len, index.key_prints
        compiled = _merge_windows if isinstance(prints, array) and isinstance(para_key, array) else None
        # without the compiled loop, the print is read when first needed, as the key (a Spark driver
        # fetches what it reads)
        own_print = _Lazy(lambda: prints[own_key]) if compiled is None else None
        for part in parts:
            for q in self._candidates(index, part, gid, lo, rank):
                d_lo, d_hi = index.doc_range(index.para_doc[q])
                first, end = max(q - _REACH, d_lo), min(q + _REACH + 1, d_hi)
                if first_kept:
                    end = min(end, gid)  # a window must lie before the paragraph
                if end - first < 2:
                    continue
                if compiled is not None:
                    windows = compiled(para_key, key_len, prints, first, end, q, gid, min_part, shortest, longest,
                                       prints[own_key])
                else:
                    assert own_print is not None
                    windows = python_merge_windows(para_key, key_len, prints, first, end, q, gid, min_part,
                                                   shortest, longest, own_print)
                for window, window_keys in windows:
                    if window in seen:
                        continue
                    seen.add(window)
                    if not first_kept and any(rank(w) >= own for w in window):
                        continue
                    # the score depends on the texts only: windows of the same keys (a page
                    # scraped again and again) are compared once
                    score = scores.get((own_key, window_keys), _UNSCORED)
                    if score is _UNSCORED:
                        if key is None:
                            key = index.keys[own_key]
                        joined = " ".join([index.keys[k] for k in window_keys])
                        score = scores[own_key, window_keys] = self.verifier.near(key, joined)
                    if score is not None:
                        out.append(Source(window, MERGED, score, part))
        return out

    def _fill_gaps(self, index: Index, lo: int, hi: int, rank: Callable[[int], tuple[int, int, int]],
                   sources: dict[int, list[Source]]) -> None:
        """Check the paragraphs LSH could not pair (short lines with a typo) against the paragraph
        their neighbours' copies point to: inside a copied block, line k+1 is compared with the
        line after the copy of line k. One pass forward and one backward. Most such pairs are
        different lines: a pair whose lengths or figure prints rule the near rule out is turned
        down before either text is read (three in four on the benchmark corpus)."""
        n = index.paragraphs
        key_len, prints = index.key_len, index.key_prints
        for step in (1, -1):
            order = range(lo, hi) if step == 1 else range(hi - 1, lo - 1, -1)
            for gid in order:
                nb = gid - step
                if gid in sources or not lo <= nb < hi or nb not in sources \
                        or index.para_doc[nb] != index.para_doc[gid]:
                    continue
                own_key = index.para_key[gid]
                shortest, longest = self.verifier.matchable_lengths(key_len[own_key])
                key: str | None = None  # read when first needed
                found: list[Source] = []
                for src in sources[nb]:
                    q = (src.kept[-1] if step == 1 else src.kept[0]) + step
                    if not 0 <= q < n or index.para_doc[q] != index.para_doc[src.kept[0]] or q == gid:
                        continue
                    if rank(q) >= rank(gid) or (self.settings.scope == SCOPE_DOCUMENT
                                                and index.para_doc[q] != index.para_doc[gid]):
                        continue
                    kept_key = index.para_key[q]
                    if not shortest <= key_len[kept_key] <= longest or prints[kept_key] != prints[own_key]:
                        continue  # the near rule asks for both, and for the same figures on both sides
                    if key is None:
                        key = index.keys[own_key]
                    score = self.verifier.near(key, index.keys[kept_key])
                    if score is not None:
                        found.append(Source((q,), EXACT if score == 1.0 else NEAR, score, kept_key))
                if found:
                    sources[gid] = found

    # -- runs ----------------------------------------------------------------------------------

    def _runs(self, index: Index, sources: dict[int, list[Source]], standing: frozenset[int]) -> frozenset[int]:
        """Members of repeated runs that hold at least one standing duplicate."""
        window = self.settings.run_window
        out: set[int] = set()
        run: list[int] = []

        def close() -> None:
            if len(run) >= 2 and any(g in standing for g in run):
                out.update(run)

        for gid in sorted(sources):
            if run and gid == run[-1] + 1 and index.para_doc[gid] == index.para_doc[run[-1]] \
                    and _coherent(index, sources[run[-1]], sources[gid], window):
                run.append(gid)
                continue
            close()
            run = [gid]
        close()
        return frozenset(out)


def _coherent(index: Index, a: list[Source], b: list[Source], window: int) -> bool:
    """Two neighbouring duplicates whose copies are neighbours as well."""
    for sa in a:
        for sb in b:
            qa, qb = sa.kept[0], sb.kept[-1]
            if qa != qb and index.para_doc[qa] == index.para_doc[qb] and abs(qb - qa) <= window:
                return True
    return False
