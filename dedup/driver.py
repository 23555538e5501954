"""Planning from collected columns: what a distributed run (``dedup.spark``) does on its driver.

The per-document work (segment, fix, key, sign, apply) and the per-pair work (candidates, gate,
verification) run distributed; the decisions need global context (each paragraph's verified
sources among earlier paragraphs, repeated runs inside a document, a greedy pass in keep order),
so they run here with the embedded engine's own ``Planner`` on an ``Index`` rebuilt from compact
columns. Only the documents that hold a paragraph with a copy somewhere (a key seen twice, or a
key in a verified match or merge container) are collected: the other documents can have no
source and be no source, and dropping them changes no decision, since the planner depends only
on the order of paragraph ids, not on their values.

Key texts are held only where the planner may read them (``Verifier.near`` for merged lines and
gap filling, the list-item test): the keys of paragraphs within ``NEAR`` positions of a
paragraph with a copy. Every other key is a placeholder of the right length; a read of a
placeholder is recorded, those texts are fetched, and the plan is made again, so the final plan
never saw a placeholder.

Nothing here imports pyspark; ``tests/test_driver.py`` checks it against the embedded engine.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import SupportsIndex, overload

import numpy as np

from dedup.cluster import components
from dedup.index import Index
from dedup.keys import figure_print
from dedup.lsh import Banding
from dedup.model import Cluster, ParagraphRef
from dedup.pipeline import Note, build_clusters, notes_of
from dedup.plan import Planner
from dedup.settings import BOILERPLATE_REMOVE, Settings
from dedup.verify import KeyMatch, Verifier

# Paragraphs within this many positions of a paragraph with a copy have their key text sent to
# the driver: merged lines look two paragraphs away from a part's copy, gap filling one further.
NEAR = 3
# A plan that still reads keys the driver does not hold after this many fetches is an error.
MAX_FETCHES = 64


class HeldKeys(list[str]):
    """Key texts by key id where held, placeholders of the right length elsewhere; reading a
    placeholder records the key id in ``misses``."""

    def __init__(self, lengths: Sequence[int], texts: Mapping[int, str]) -> None:
        super().__init__("" for _ in range(len(lengths)))
        self.lengths = lengths
        self.held = bytearray(len(lengths))
        self.misses: set[int] = set()
        self.hold(texts)

    def hold(self, texts: Mapping[int, str]) -> None:
        for kid, text in texts.items():
            if len(text) != self.lengths[kid]:
                raise ValueError(f"key {kid}: text of {len(text)} characters, expected {self.lengths[kid]}")
            list.__setitem__(self, kid, text)
            self.held[kid] = 1

    @overload
    def __getitem__(self, i: SupportsIndex) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: SupportsIndex | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        k = i.__index__()
        if not self.held[k]:
            self.misses.add(k)
            return "\x00" * self.lengths[k]
        return list.__getitem__(self, k)


class HeldPrints(Sequence[int]):
    """The figure print of each key (``keys.figure_print``), computed when first read: a key
    not held reads as a placeholder, and is recorded as a miss, until it is."""

    def __init__(self, keys: HeldKeys) -> None:
        self._keys = keys
        self._prints: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._keys)

    @overload
    def __getitem__(self, i: int) -> int: ...

    @overload
    def __getitem__(self, i: slice) -> Sequence[int]: ...

    def __getitem__(self, i: int | slice) -> int | Sequence[int]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        found = self._prints.get(i)
        if found is None:
            found = figure_print(self._keys[i])
            if self._keys.held[i]:
                self._prints[i] = found
        return found


class ColumnIndex(Index):
    """An ``Index`` whose keys are given as columns (lengths, and texts where held) instead of
    interned one by one; paragraphs and documents are added as usual."""

    def __init__(self, banding: Banding, num_perm: int, keys: HeldKeys) -> None:
        super().__init__(banding, num_perm)
        self.keys = keys
        self.key_len = array("i", keys.lengths)
        self.key_prints = HeldPrints(keys)
        self._first = array("q", [-1]) * len(keys)


@dataclass
class Collected:
    """What the driver collects: the documents that hold a paragraph with a copy, their
    paragraphs, the lengths (and, near copies, texts) of their keys, and the verified matches
    and merge containers. Document numbers, paragraph ids and key ids are the run's global ones
    (paragraph ids and key ids numbered exactly as the embedded engine numbers them)."""

    doc_numbers: np.ndarray  # int64, increasing: the documents in run order
    doc_ids: list[str]
    para_doc: np.ndarray  # int64 document number of each paragraph, sorted by (document, index)
    para_index: np.ndarray  # int64 position in its document
    para_gid: np.ndarray  # int64 global paragraph id
    para_key: np.ndarray  # int64 global key id
    para_start: np.ndarray  # int64
    para_end: np.ndarray  # int64
    key_len: Mapping[int, int]  # global key id -> length, for every key of the paragraphs
    key_text: dict[int, str]  # global key id -> text, for the keys held
    matches: Sequence[KeyMatch]  # global key ids, in verification order
    containers: Sequence[tuple[int, int]]  # (longer, shorter) global key ids, in verification order
    boilerplate: Mapping[int, int] = field(default_factory=dict)  # global paragraph id -> documents


@dataclass(frozen=True, slots=True)
class KeptRef:
    """A kept copy, with the number of its document (to find its text)."""

    doc_number: int
    ref: ParagraphRef


@dataclass(frozen=True, slots=True)
class Decision:
    """The removal of one paragraph, as the distributed apply step needs it."""

    doc_number: int
    index: int
    rule: str
    reason: str
    score: float  # rounded for the record
    kept: tuple[KeptRef, ...]
    cluster: int  # global id of the first kept paragraph
    source_key: str  # the key the match was verified against (for the MinHash estimate)


@dataclass
class DriverPlan:
    """A plan made on the driver, in global ids: the removals, and what clusters need."""

    decisions: list[Decision]
    edges: list[tuple[int, int]]  # global paragraph ids
    notes: dict[int, Note]  # by global paragraph id (``Note.kept`` in global ids)
    refs: dict[int, ParagraphRef]  # every paragraph of an edge
    fetches: int  # rounds of key texts fetched because the plan read a key not held
    paragraphs: int  # paragraphs planned
    held_keys: int

    def clusters(self) -> tuple[Cluster, ...]:
        """The clusters by union-find on the driver (the fast path; see ``dedup.spark``)."""
        return clusters_from_labels(self, union_find_labels(self.edges))


Fetch = Callable[[list[int]], Mapping[int, str]]


def plan_collected(settings: Settings, verifier: Verifier, banding: Banding, collected: Collected,
                   fetch: Fetch) -> DriverPlan:
    """Rebuild an index from ``collected`` and plan it with the embedded ``Planner``;
    ``fetch(key ids)`` returns the texts of keys the plan needs but the driver does not hold."""
    c = collected
    kids = np.array(sorted(c.key_len), dtype=np.int64)  # global key ids -> compact, order kept
    compact = {int(k): i for i, k in enumerate(kids.tolist())}
    keys = HeldKeys([c.key_len[k] for k in kids.tolist()], {compact[k]: t for k, t in c.key_text.items()})
    index = ColumnIndex(banding, settings.num_perm, keys)
    local_key = np.searchsorted(kids, c.para_key)
    for number, doc_id, (lo, hi) in zip(c.doc_numbers.tolist(), c.doc_ids, _runs(c.para_doc), strict=True):
        if not (c.para_doc[lo:hi] == number).all():
            raise ValueError(f"document {doc_id!r}: paragraphs out of order")
        if c.para_index[lo:hi].tolist() != list(range(hi - lo)):
            raise ValueError(f"document {doc_id!r}: paragraphs missing or out of order")
        index.add_document(doc_id, zip(local_key[lo:hi].tolist(), c.para_start[lo:hi].tolist(),
                                       c.para_end[lo:hi].tolist(), strict=True))
    for m in c.matches:
        index.matches.setdefault(compact[m.removed], []).append(
            KeyMatch(compact[m.kept], compact[m.removed], m.rule, m.score))
    for long, short in c.containers:
        index.containers.setdefault(compact[long], []).append(compact[short])
    gid_of = c.para_gid
    local_gid = {int(g): i for i, g in enumerate(gid_of.tolist())} if c.boilerplate else {}
    boilerplate = {local_gid[g]: n for g, n in c.boilerplate.items() if g in local_gid}
    removed_boilerplate = boilerplate if settings.boilerplate == BOILERPLATE_REMOVE else {}

    planner = Planner(settings, verifier)
    fetches = 0
    while True:
        keys.misses.clear()
        plan = planner.plan(index, 0, index.paragraphs)
        edges, notes = notes_of(plan, index, settings, removed_boilerplate)
        source_keys = {gid: keys[d.source.key] for gid, d in plan.removed.items()}
        if not keys.misses:
            break
        if fetches >= MAX_FETCHES:
            raise RuntimeError(f"the plan still reads {len(keys.misses)} key(s) not held after {fetches} fetches")
        fetches += 1
        wanted = sorted(int(kids[k]) for k in keys.misses)
        texts = fetch(wanted)
        missing = set(wanted) - set(texts)
        if missing:
            raise RuntimeError(f"{len(missing)} key text(s) could not be fetched")
        keys.hold({compact[k]: t for k, t in texts.items()})

    doc_number = c.doc_numbers

    def ref(gid: int) -> ParagraphRef:
        return ParagraphRef(index.doc_ids[index.para_doc[gid]], index.para_index[gid],
                            index.para_start[gid], index.para_end[gid])

    def kept(gid: int) -> KeptRef:
        return KeptRef(int(doc_number[index.para_doc[gid]]), ref(gid))

    decisions = [
        Decision(int(doc_number[index.para_doc[gid]]), index.para_index[gid], d.source.rule, d.reason,
                 round(d.source.score, 4), tuple(kept(q) for q in d.source.kept), int(gid_of[d.source.kept[0]]),
                 source_keys[gid])
        for gid, d in sorted(plan.removed.items())
    ]
    touched = sorted({g for e in edges for g in e} | set(notes))
    return DriverPlan(
        decisions=decisions,
        edges=[(int(gid_of[a]), int(gid_of[b])) for a, b in edges],
        notes={int(gid_of[g]): Note(n.status, n.rule, n.score, n.reason, tuple(int(gid_of[q]) for q in n.kept))
               for g, n in notes.items()},
        refs={int(gid_of[g]): ref(g) for g in touched},
        fetches=fetches,
        paragraphs=index.paragraphs,
        held_keys=sum(keys.held),
    )


def _runs(values: np.ndarray) -> Iterator[tuple[int, int]]:
    """``(start, end)`` of each run of equal values of a sorted array."""
    if len(values) == 0:
        return
    cuts = np.flatnonzero(values[1:] != values[:-1]) + 1
    bounds = [0, *cuts.tolist(), len(values)]
    yield from pairwise(bounds)


def union_find_labels(edges: Iterable[tuple[int, int]]) -> dict[int, int]:
    """Each node of ``edges`` with the smallest node of its connected component (what the
    iterative Spark algorithm converges to), by union-find over the nodes that occur."""
    pairs = list(edges)
    nodes = sorted({g for e in pairs for g in e})
    local = {g: i for i, g in enumerate(nodes)}
    groups = components(len(nodes), ((local[a], local[b]) for a, b in pairs), list(range(len(nodes))))
    return {nodes[i]: nodes[g[0]] for g in groups for i in g}


def clusters_from_labels(plan: DriverPlan, labels: Mapping[int, int]) -> tuple[Cluster, ...]:
    """Clusters as ``Deduplicator.clusters()`` lists them, from component labels (the smallest
    paragraph id of each component; members and components in paragraph id order)."""
    groups: dict[int, list[int]] = {}
    for gid, label in labels.items():
        groups.setdefault(label, []).append(gid)
    ordered = [sorted(groups[label]) for label in sorted(groups)]
    return build_clusters([g for g in ordered if len(g) > 1], plan.notes, plan.refs.__getitem__)
