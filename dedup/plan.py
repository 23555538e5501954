"""From verified matches to decisions: which paragraph goes, and which copy it leaves behind.

The rules, in the order they apply:

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
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

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


def is_list_item(key: str) -> bool:
    """A bullet or numbered line ("- …", "• …", "1. …", "a) …")."""
    return _LIST_ITEM.match(key) is not None


@dataclass(frozen=True, slots=True)
class Table:
    """The corpus as flat columns indexed by paragraph id (gid), in input order."""

    doc: Sequence[int]  # document number of each paragraph
    index: Sequence[int]  # position within its document
    key_id: Sequence[int]  # unique key of each paragraph
    doc_start: Sequence[int]  # first gid of each document, plus a final sentinel
    keys: Sequence[str]  # unique keys

    def __len__(self) -> int:
        return len(self.doc)


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
    sources: dict[int, list[Source]]
    removed: dict[int, Decision]
    standing: frozenset[int]
    in_run: frozenset[int]
    rank: Sequence[int] = field(repr=False)


class Planner:
    """Builds a ``Plan`` from key-level matches; holds no state beyond one call's inputs."""

    def __init__(self, settings: Settings, verifier: Verifier) -> None:
        self.settings = settings
        self.verifier = verifier

    def plan(
        self,
        table: Table,
        matches: Sequence[KeyMatch],
        containers: dict[int, list[int]],
    ) -> Plan:
        n = len(table)
        key_len = [len(k) for k in table.keys]
        rank = self._ranks(table, key_len)
        occurrences: dict[int, list[int]] = {}
        for gid in range(n):
            occurrences.setdefault(table.key_id[gid], []).append(gid)
        by_removed: dict[int, list[KeyMatch]] = {}
        for m in matches:
            by_removed.setdefault(m.removed, []).append(m)

        sources: dict[int, list[Source]] = {}
        for gid in range(n):
            found = self._sources(gid, table, rank, key_len, occurrences, by_removed, containers)
            if found:
                sources[gid] = found

        self._fill_gaps(table, rank, sources)
        standing = frozenset(
            gid
            for gid in sources
            if key_len[table.key_id[gid]] >= self.settings.min_chars
            and not is_list_item(table.keys[table.key_id[gid]])
        )
        in_run = self._runs(table, sources, standing)
        eligible = standing | in_run

        removed: dict[int, Decision] = {}
        for gid in sorted(eligible, key=rank.__getitem__):
            for src in sources[gid]:
                if not any(k in removed for k in src.kept):
                    reason = ALONE if gid in standing else IN_RUN
                    removed[gid] = Decision(src, reason)
                    break
        return Plan(sources, removed, standing, in_run, rank)

    # -- ranking -------------------------------------------------------------------------------

    def _ranks(self, table: Table, key_len: list[int]) -> list[int]:
        n = len(table)
        if self.settings.keep == KEEP_LONGEST:
            order = sorted(range(n), key=lambda g: (-key_len[table.key_id[g]], g))
        else:
            order = list(range(n))
        rank = [0] * n
        for r, gid in enumerate(order):
            rank[gid] = r
        return rank

    # -- sources -------------------------------------------------------------------------------

    def _candidates(self, kept_key: int, gid: int, table: Table, key_len: Sequence[int],
                    occurrences: dict[int, list[int]]) -> list[int]:
        """Occurrences of ``kept_key`` that outrank ``gid`` and are in scope: the ones nearest
        to ``gid`` in its own document first, then the earliest elsewhere."""
        occ = occurrences.get(kept_key, [])
        own = key_len[table.key_id[gid]]
        if self.settings.keep == KEEP_LONGEST and key_len[kept_key] != own:
            limit = len(occ) if key_len[kept_key] > own else 0
        else:
            limit = bisect_left(occ, gid)  # same rank class: earlier wins
        doc = table.doc[gid]
        a = bisect_left(occ, table.doc_start[doc], 0, limit)
        b = bisect_left(occ, table.doc_start[doc + 1], a, limit)
        here = bisect_left(occ, gid, a, b)
        same_doc = [q for q in occ[max(a, here - MAX_SOURCES) : min(b, here + MAX_SOURCES)] if q != gid]
        same_doc.sort(key=lambda q: abs(q - gid))
        out = same_doc[:MAX_SOURCES]
        if a < b and occ[a] != gid and occ[a] not in out:
            out.append(occ[a])  # the first copy in the document: the likeliest to be kept
        if self.settings.scope != SCOPE_DOCUMENT:
            out.extend((occ[: min(a, MAX_SOURCES)] + occ[b : min(limit, b + MAX_SOURCES)])[:MAX_SOURCES])
        return out

    def _sources(self, gid: int, table: Table, rank: Sequence[int], key_len: Sequence[int],
                 occurrences: dict[int, list[int]], by_removed: dict[int, list[KeyMatch]],
                 containers: dict[int, list[int]]) -> list[Source]:
        key = table.key_id[gid]
        found: list[Source] = [
            Source((q,), EXACT, 1.0, key) for q in self._candidates(key, gid, table, key_len, occurrences)
        ]
        for m in by_removed.get(key, ()):
            found.extend(
                Source((q,), m.rule, m.score, m.kept)
                for q in self._candidates(m.kept, gid, table, key_len, occurrences)
            )
        if key in containers:
            found.extend(self._merged(gid, table, rank, key_len, occurrences, containers[key]))
        found.sort(key=lambda s: (-s.score, table.doc[s.kept[0]] != table.doc[gid], rank[s.kept[0]]))
        return found

    def _merged(self, gid: int, table: Table, rank: Sequence[int], key_len: Sequence[int],
                occurrences: dict[int, list[int]], parts: list[int]) -> list[Source]:
        """Sources where this paragraph is two or three consecutive kept paragraphs run together."""
        key = table.keys[table.key_id[gid]]
        out: list[Source] = []
        seen: set[tuple[int, ...]] = set()
        for part in parts:
            for q in self._candidates(part, gid, table, key_len, occurrences):
                lo, hi = table.doc_start[table.doc[q]], table.doc_start[table.doc[q] + 1]
                for offsets in _MERGE_WINDOWS:
                    window = tuple(q + d for d in offsets)
                    if window in seen or window[0] < lo or window[-1] >= hi or gid in window:
                        continue
                    seen.add(window)
                    if any(rank[w] >= rank[gid] for w in window):
                        continue
                    sizes = [key_len[table.key_id[w]] for w in window]
                    if min(sizes) < max(MIN_MERGE_PART, MIN_MERGE_SHARE * len(key)):
                        continue  # every piece must carry real text, not a stray label
                    joined = " ".join(table.keys[table.key_id[w]] for w in window)
                    score = self.verifier.near(key, joined)
                    if score is not None:
                        out.append(Source(window, MERGED, score, part))
        return out

    def _fill_gaps(self, table: Table, rank: Sequence[int], sources: dict[int, list[Source]]) -> None:
        """Check the paragraphs LSH could not pair (short lines with a typo) against the paragraph
        their neighbours' copies point to: inside a copied block, line k+1 is compared with the
        line after the copy of line k. One pass forward and one backward."""
        n = len(table)
        for step in (1, -1):
            order = range(n) if step == 1 else range(n - 1, -1, -1)
            for gid in order:
                nb = gid - step
                if gid in sources or not 0 <= nb < n or nb not in sources or table.doc[nb] != table.doc[gid]:
                    continue
                key = table.keys[table.key_id[gid]]
                found: list[Source] = []
                for src in sources[nb]:
                    q = (src.kept[-1] if step == 1 else src.kept[0]) + step
                    if not 0 <= q < n or table.doc[q] != table.doc[src.kept[0]] or q == gid:
                        continue
                    if rank[q] >= rank[gid] or (self.settings.scope == SCOPE_DOCUMENT
                                                and table.doc[q] != table.doc[gid]):
                        continue
                    kept_key = table.key_id[q]
                    score = self.verifier.near(key, table.keys[kept_key])
                    if score is not None:
                        found.append(Source((q,), EXACT if score == 1.0 else NEAR, score, kept_key))
                if found:
                    sources[gid] = found

    # -- runs ----------------------------------------------------------------------------------

    def _runs(self, table: Table, sources: dict[int, list[Source]], standing: frozenset[int]) -> frozenset[int]:
        """Members of repeated runs that hold at least one standing duplicate."""
        window = self.settings.run_window
        out: set[int] = set()
        run: list[int] = []

        def close() -> None:
            if len(run) >= 2 and any(g in standing for g in run):
                out.update(run)

        for gid in sorted(sources):
            if run and gid == run[-1] + 1 and table.doc[gid] == table.doc[run[-1]] \
                    and self._coherent(table, sources[run[-1]], sources[gid], window):
                run.append(gid)
                continue
            close()
            run = [gid]
        close()
        return frozenset(out)

    @staticmethod
    def _coherent(table: Table, a: list[Source], b: list[Source], window: int) -> bool:
        """Two neighbouring duplicates whose copies are neighbours as well."""
        for sa in a:
            for sb in b:
                qa, qb = sa.kept[0], sb.kept[-1]
                if qa != qb and table.doc[qa] == table.doc[qb] and abs(qb - qa) <= window:
                    return True
        return False
