"""One forward flow, batch by batch: segment -> fix -> key -> sign -> index -> verify -> plan -> apply.

``Deduplicator`` is the library entry point. It owns its settings, the objects derived from them
(hasher, banding, verifier, fixer) and, for ``clean``, an ``Index`` of everything seen so far, so
a paragraph seen in an earlier batch (or an earlier run, with a persistent index) is a copy like
any other. ``run`` starts from a fresh index every time: its result depends only on the
documents it is given.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import signal
import sys
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, pairwise
from typing import TYPE_CHECKING

import numpy as np

from dedup import compiled
from dedup.apply import apply_edits, removal_spans
from dedup.cluster import components
from dedup.fixes import Fix, Fixer
from dedup.index import Index
from dedup.keys import document_marks, matching_key
from dedup.keytexts import KeyTexts, file_identity, read_spans
from dedup.lsh import Banding, band_values, choose_banding
from dedup.model import (
    BOILERPLATE,
    REMOVE,
    REPLACE,
    Boilerplate,
    Cluster,
    Document,
    DocumentResult,
    Edit,
    Member,
    ParagraphRef,
)
from dedup.plan import Plan, Planner, WindowCache, is_list_item
from dedup.segment import LINE, Segments, segment
from dedup.settings import BOILERPLATE_OFF, BOILERPLATE_REMOVE, KEEP_LONGEST, Settings
from dedup.signatures import MinHasher, jaccard_estimate
from dedup.verify import KeyMatch, Verifier

if TYPE_CHECKING:
    from dedup.compiled import Agreement, Gate

Progress = Callable[[str, int, int], None]
Checked = tuple[list[KeyMatch], tuple[int, int] | None]  # what verify_pair says about one pair
MIN_PAIRS_TO_SHARE = 512  # fewer candidate pairs are verified in the main process

# Candidates whose keys both have at least GATE_MIN_CHARS characters must agree on a share of
# MinHash values of at least GATE_SHARE times their length ratio (a copy, a cut-short copy or a
# part of a merged line shares about that ratio of shingles). This only skips hopeless
# candidates before the costly text comparison; nothing is ever removed on the estimate.
GATE_MIN_CHARS = 60
GATE_SHARE = 0.5
# A key is verified against at most MAX_LONG_CANDIDATES + 1 of its earlier partners of which
# either is a key of at least LONG_KEY_CHARS characters (in practice a piece of an over-long
# paragraph; no paragraph of the development corpora comes near): those whose MinHash agrees
# best with it (the earliest first on a tie), and its earliest. Long texts in one language share
# many shingles, comparing two of them costs time in the square of their length, and a line of
# hundreds of megabytes of repetitive text would otherwise give quadratic time. Ranking at the
# later key, among earlier ones only, decides every pair when its later key arrives, so the
# pairs verified do not depend on how the input is cut into batches or runs. Exact copies never
# need verification (equal keys are one key).
LONG_KEY_CHARS = 2_500
MAX_LONG_CANDIDATES = 8
# Characters of input per batch. Memory holds the index plus one batch (three with --jobs: see
# ``clean``); results do not depend on the batch size (tests/test_pipeline.py checks it).
BATCH_CHARS = 1 << 23
PREPARED_AHEAD = 2  # with --jobs: batches being prepared while one is planned
# With --jobs, an input of one batch under this many characters is cleaned in the main process:
# forking and feeding the workers costs about 50 ms, what this much text takes to clean.
SMALL_INPUT_CHARS = 1 << 16
GATE_CHUNK = 1 << 20  # candidate pairs gated at a time


def plausible_pairs(pairs: np.ndarray, index: Index, chunk: int = GATE_CHUNK,
                    count: Agreement | None = None, compiled_gate: Gate | None = None) -> np.ndarray:
    """The candidate pairs worth verifying (see ``GATE_SHARE`` and ``LONG_KEY_CHARS``): what
    ``gate`` keeps, worked out ``chunk`` pairs at a time (a batch against a big index has
    millions of candidates, and the gate's columns would cost about 60 bytes each at once);
    only the pairs with a long key are ranked together at the end. ``compiled_gate`` does it in
    one pass without the GIL (a byte a pair), the ranking of long keys aside."""
    if len(pairs) == 0:
        return pairs
    lengths = np.frombuffer(index.key_len, dtype=np.int32)
    if compiled_gate is not None:
        flags = index.gate_flags(pairs, compiled_gate, GATE_MIN_CHARS, GATE_SHARE, LONG_KEY_CHARS)
        passed = (flags & 1).astype(bool)
        at = np.flatnonzero(flags & 2)
        if len(at):
            part = pairs[at]
            shares = np.ones(len(at))  # as plausible() leaves them: 1.0 where no agreement was asked
            asked = np.minimum(lengths[part[:, 0]], lengths[part[:, 1]]) >= GATE_MIN_CHARS
            shares[asked] = index.agreement(part[asked], count)
            passed[at] &= _best_partners(part, shares, passed[at])
        found: np.ndarray = pairs[passed]
        return found
    keep = np.empty(len(pairs), dtype=bool)
    long_at: list[np.ndarray] = []
    long_shares: list[np.ndarray] = []
    for lo in range(0, len(pairs), chunk):
        part = pairs[lo : lo + chunk]
        la, lb = lengths[part[:, 0]], lengths[part[:, 1]]
        shares = np.ones(len(part))

        def agree(idx: np.ndarray, part: np.ndarray = part, shares: np.ndarray = shares) -> np.ndarray:
            got = index.agreement(part[idx], count)
            shares[idx] = got
            return got

        keep[lo : lo + len(part)] = plausible(la, lb, agree)
        at = np.flatnonzero((la >= LONG_KEY_CHARS) | (lb >= LONG_KEY_CHARS))
        long_at.append(at + lo)
        long_shares.append(shares[at])
    at = np.concatenate(long_at)
    if len(at):  # as in ``gate``: a pair with a long end stays only among its later key's best
        keep[at] &= _best_partners(pairs[at], np.concatenate(long_shares), keep[at])
    kept: np.ndarray = pairs[keep]
    return kept


def gate(pairs: np.ndarray, la: np.ndarray, lb: np.ndarray,
         agreement: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Which of the candidate ``pairs`` (sorted, keys of lengths ``la``, ``lb``) to verify: those
    that pass ``plausible``, and of those with a long key (``LONG_KEY_CHARS``), only the
    ``MAX_LONG_CANDIDATES`` best of their later key."""
    shares = np.ones(len(pairs))

    def agree(idx: np.ndarray) -> np.ndarray:
        got = agreement(idx)
        shares[idx] = got
        return got

    keep = plausible(la, lb, agree)
    long = (la >= LONG_KEY_CHARS) | (lb >= LONG_KEY_CHARS)
    if long.any():
        keep &= ~long | _best_partners(pairs, shares, keep & long)
    return keep


def plausible(la: np.ndarray, lb: np.ndarray, agreement: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Which candidates (keys of lengths ``la``, ``lb``) pass the gate; ``agreement(idx)`` gives
    the 8-bit sketch agreement of the candidates at positions ``idx``."""
    short = np.minimum(la, lb)
    ratio = short / np.maximum(np.maximum(la, lb), 1)
    keep: np.ndarray = short < GATE_MIN_CHARS
    check = np.flatnonzero(~keep)
    for lo in range(0, len(check), 1 << 16):  # bounded memory for the (pairs x num_perm) compare
        idx = check[lo : lo + (1 << 16)]
        keep[idx] = agreement(idx) >= GATE_SHARE * ratio[idx]
    return keep


def verify_pair(verifier: Verifier, i: int, a: str, j: int, b: str) -> tuple[list[KeyMatch], tuple[int, int] | None]:
    """The verified matches between keys ``i`` (text ``a``) and ``j`` (text ``b``), and the
    ``(longer, shorter)`` container pair when the shorter key may be part of a merged line:
    unless the longer key may already go in favour of the shorter, the shorter one may be part
    of a merged line (checked in plan, where neighbours are known)."""
    matches = verifier.compare(i, a, j, b)
    if len(a) == len(b):
        return matches, None
    short, long = (i, j) if len(a) < len(b) else (j, i)
    if any(m.removed == long for m in matches):
        return matches, None
    return matches, (long, short)


def pair_estimates(hasher: MinHasher, pairs: Sequence[tuple[str, str]]) -> list[float]:
    """MinHash Jaccard estimates (datasketch's estimator, full signatures) of pairs of keys,
    rounded for the record."""
    if not pairs:
        return []
    needed = sorted({k for p in pairs for k in p})
    sig = hasher.signatures(needed)
    row = {k: i for i, k in enumerate(needed)}
    return [round(jaccard_estimate(sig[row[a]], sig[row[b]]), 4) for a, b in pairs]


@dataclass(frozen=True, slots=True)
class Removal:
    """A duplicate paragraph's removal as the record shows it: the rule, the reason, the
    verified score (rounded), the kept copies, the cluster (the kept paragraph's id in the run)
    and the MinHash estimate."""

    rule: str
    reason: str
    score: float
    kept: tuple[ParagraphRef, ...]
    cluster: int
    estimate: float


def document_result(doc: Document, prep: Prepared, removals: Mapping[int, Removal],
                    boilerplate: Mapping[int, int], remove_boilerplate: bool) -> DocumentResult:
    """One document's edits and cleaned text from the decisions about its paragraphs (by
    paragraph index): ``removals`` of duplicates, and ``boilerplate`` paragraphs with the number
    of documents they occur in (removed too with ``remove_boilerplate``)."""
    seg = prep.segments
    gone = sorted(set(removals) | set(boilerplate)) if remove_boilerplate else sorted(removals)
    spans = removal_spans(seg, gone)

    def ref(i: int) -> ParagraphRef:
        return ParagraphRef(doc.id, i, seg.starts[i], seg.ends[i])

    edits: list[Edit] = []
    for i in gone:
        start, end = spans[i]
        removal = removals.get(i)
        if removal is None:  # boilerplate: every copy goes, none is kept
            edits.append(Edit(
                op=REMOVE, start=start, end=end, old=doc.text[start:end], new="",
                rule=BOILERPLATE, reason=f"in {boilerplate[i]} documents", paragraph=ref(i),
                kept=(), cluster=None, score=None, estimate=None,
            ))
            continue
        edits.append(Edit(
            op=REMOVE, start=start, end=end, old=doc.text[start:end], new="",
            rule=removal.rule, reason=removal.reason, paragraph=ref(i),
            kept=removal.kept, cluster=removal.cluster, score=removal.score, estimate=removal.estimate,
        ))
    edits.extend(_fix_edits(doc, seg, prep.fixes, sorted(spans.values())))
    edits.sort(key=lambda e: e.start)
    cleaned = apply_edits(doc.text, edits) if edits else doc.text
    listed = tuple(Boilerplate(ref(i), boilerplate[i]) for i in sorted(boilerplate))
    content = sum(e - s for s, e in zip(seg.starts, seg.ends, strict=True))
    return DocumentResult(doc, seg.mode, len(seg), tuple(edits), cleaned, content, listed)


@dataclass(frozen=True, slots=True)
class Note:
    """What ``scan`` reports about a paragraph that matched an earlier one."""

    status: str
    rule: str | None
    score: float | None
    reason: str
    kept: tuple[int, ...]


def notes_of(plan: Plan, index: Index, settings: Settings,
             boilerplate: Mapping[int, int]) -> tuple[list[tuple[int, int]], dict[int, Note]]:
    """What ``scan`` needs about a plan: the match edges (each paragraph with the paragraphs of
    each of its sources), and the status of every paragraph that matched an earlier one (and of
    every removed ``boilerplate`` paragraph)."""
    keys = index.keys
    edges: list[tuple[int, int]] = []
    notes: dict[int, Note] = {}
    for gid, srcs in plan.sources.items():
        edges.extend((gid, q) for src in srcs for q in src.kept)
        decision = plan.removed.get(gid)
        if gid in boilerplate:
            notes[gid] = Note("removed", BOILERPLATE, None, f"in {boilerplate[gid]} documents", ())
        elif decision is not None:
            src = decision.source
            notes[gid] = Note("removed", src.rule, round(src.score, 4), decision.reason, src.kept)
        else:
            best = srcs[0]
            key = keys[index.para_key[gid]]
            if gid in plan.standing or gid in plan.in_run:
                why = "kept: every copy it matches was removed"
            elif is_list_item(key):
                why = "kept: list item outside a repeated run"
            else:
                why = f"kept: shorter than min_chars ({settings.min_chars}) outside a repeated run"
            notes[gid] = Note("kept", best.rule, round(best.score, 4), why, best.kept)
    for gid, n in boilerplate.items():
        if gid not in notes:
            notes[gid] = Note("removed", BOILERPLATE, None, f"in {n} documents", ())
    return edges, notes


def build_clusters(groups: Iterable[Sequence[int]], notes: Mapping[int, Note],
                   ref: Callable[[int], ParagraphRef]) -> tuple[Cluster, ...]:
    """Clusters from connected components (each sorted by rank, the components in rank order)
    and the notes of their members."""
    out: list[Cluster] = []
    for cid, members in enumerate(groups):
        listed: list[Member] = []
        for gid in members:
            note = notes.get(gid)
            if gid == members[0] and (note is None or note.status != "removed"):
                listed.append(Member(ref(gid), "canonical", None, None, "kept: first in keep order", ()))
            elif note is None:
                listed.append(Member(ref(gid), "kept", None, None, "kept: a copy of it was matched, not it", ()))
            else:
                listed.append(Member(ref(gid), note.status, note.rule, note.score, note.reason,
                                     tuple(ref(q) for q in note.kept)))
        out.append(Cluster(cid, tuple(listed)))
    return tuple(out)


def _best_partners(pairs: np.ndarray, agreement: np.ndarray, ranked: np.ndarray) -> np.ndarray:
    """A mask of the ``ranked`` pairs ``(earlier, later)`` that are among the
    ``MAX_LONG_CANDIDATES`` best of their later key (by agreement, then the earlier key first),
    or its earliest partner: in a cluster of many near copies every copy is then compared with
    the first, which is usually the copy kept (copies agree with each other about equally well).
    Every pair of a later key is in the same call (they come with its batch), so the choice
    depends on nothing else."""
    best = np.zeros(len(pairs), dtype=bool)
    idx = np.flatnonzero(ranked)
    if len(idx) == 0:
        return best
    later, earlier = pairs[idx, 1], pairs[idx, 0]
    for order, top in ((np.lexsort((earlier, -agreement[idx], later)), MAX_LONG_CANDIDATES),
                       (np.lexsort((earlier, later)), 1)):
        owner = later[order]
        first = np.ones(len(owner), dtype=bool)
        first[1:] = owner[1:] != owner[:-1]
        group_start = np.maximum.accumulate(np.where(first, np.arange(len(owner)), 0))
        best[idx[order[np.arange(len(owner)) - group_start < top]]] = True
    return best


@dataclass(frozen=True, slots=True)
class Result:
    """What a run produced: one result per document (in ``id`` order) and the clusters."""

    settings: Settings
    documents: tuple[DocumentResult, ...]
    clusters: tuple[Cluster, ...]

    @property
    def edits(self) -> int:
        return sum(len(d.edits) for d in self.documents)


@dataclass(frozen=True, slots=True)
class Prepared:
    """What one document needs before it meets the index: its paragraphs, its text fixes and
    the matching key of each paragraph (from the fixed text). A pure function of the document
    and the settings, so any process can compute it."""

    segments: Segments
    fixes: tuple[Fix, ...]
    keys: tuple[str, ...]


def prepare(doc: Document, fixer: Fixer) -> Prepared:
    """Segment, fix and key one document."""
    seg = segment(doc.text)
    if not len(seg):  # empty, or only whitespace: passes through untouched
        return Prepared(seg, (), ())
    fixed = fixer.fix(doc.text, seg.mode == LINE)
    text = fixed.text
    marks = document_marks(text)
    keys = []
    for s, e in zip(seg.starts, seg.ends, strict=True):
        fs, fe = fixed.span(s, e) if fixed.fixes else (s, e)
        keys.append(matching_key(text[fs:fe], marks))
    return Prepared(seg, fixed.fixes, tuple(keys))


@lru_cache(maxsize=4)
def _tools(settings: Settings) -> tuple[Fixer, MinHasher]:
    """A worker process's fixer and hasher, built once per settings."""
    return Fixer(settings.fixes), MinHasher(settings.num_perm, settings.seed, settings.ngram)


# the documents, then every key's signature and LSH band values, in order
_PreparedChunk = tuple[list[Prepared], np.ndarray, np.ndarray]
_Chunk = tuple[Future[_PreparedChunk], list[Document]]  # sent to a worker, and what was sent


def _prepare_chunk(settings: Settings, banding: Banding, docs: list[Document]) -> _PreparedChunk:
    """Run in a worker process: prepare a chunk of documents, sign all their keys at once
    (one numpy or compiled call for the chunk, not one a document: one-paragraph records made
    that the cost of the run) and hash their bands (work taken off the main process, which
    registers and plans while the workers prepare)."""
    fixer, hasher = _tools(settings)
    prepared = [prepare(doc, fixer) for doc in docs]
    signatures = hasher.signatures([k for p in prepared for k in p.keys])
    return prepared, signatures, band_values(signatures, banding)


def _silent(stage: str, done: int, total: int) -> None:
    """A progress callback that reports nothing."""


def _check_chunk(threshold: float, pairs: list[tuple[int, int]], texts: dict[int, str]) -> list[Checked]:
    """Run in a worker process: verify a chunk of candidate pairs of key ids, given the text of
    each key they hold (sent once, however many pairs share it)."""
    verifier = Verifier(threshold)
    return [verify_pair(verifier, i, texts[i], j, texts[j]) for i, j in pairs]


@dataclass(frozen=True, slots=True)
class _SharedKeys:
    """The index's key file as the workers see it: forked after it was made, they read the
    texts of the keys they verify from it (``read_spans``) instead of receiving them pickled."""

    keys: KeyTexts  # the object whose file it is (a stored index rolled back has another)
    fd: int
    identity: tuple[int, int]


def _check_shared_chunk(threshold: float, pairs: np.ndarray, fd: int, identity: tuple[int, int],
                        ids: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> list[Checked]:
    """``_check_chunk`` with the texts read from the key file: key ``ids[k]`` (sorted) is the
    UTF-8 text at bytes ``starts[k]:ends[k]``."""
    texts = dict(zip(ids.tolist(), read_spans(fd, identity, starts, ends), strict=True))
    return _check_chunk(threshold, pairs.tolist(), texts)


# Allocations between young-generation collections, and the two ratios above (CPython's default
# is 700, 10, 10). A run allocates millions of short-lived containers; at the default the cyclic
# collector took about 1 s of 14 on the 52 MB benchmark, most of it in full collections of the
# long-lived index, against 0.25 s with these.
COLLECTOR_THRESHOLDS = (20_000, 20, 20)


@contextlib.contextmanager
def collector_tuned() -> Iterator[None]:
    """Collect garbage cycles less often while the block runs, then restore the thresholds.

    The CLI wraps every command in it and worker processes start with it; a program calling
    ``Deduplicator.clean`` may wrap its loop the same way (the result does not depend on it).
    """
    before = gc.get_threshold()
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _start_worker(parent: int) -> None:
    """Worker initializer: tuned collector (see ``collector_tuned``), ended with the parent."""
    gc.set_threshold(*COLLECTOR_THRESHOLDS)
    _end_with(parent)


def _end_with(parent: int) -> None:
    """End when the main process ends, even when it is killed (SIGKILL).
    A forked worker shares its task queue's pipe with its siblings, so it would otherwise wait
    on it forever. Linux only (prctl PR_SET_PDEATHSIG); elsewhere workers end with the pool."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the main process ended before prctl took effect
        os._exit(1)


@dataclass(frozen=True, slots=True)
class _Batch:
    docs: list[Document]
    prepared: list[Prepared]
    doc_numbers: list[int]
    lo: int  # first paragraph id of the batch
    hi: int
    piece_keys: frozenset[int]  # keys of pieces of over-long paragraphs (never merge containers)


@dataclass(frozen=True, slots=True)
class _Registered:
    """A batch registered in the index, its sketches not yet in the LSH table."""

    batch: _Batch
    signatures: np.ndarray
    bands: np.ndarray | None
    first_doc: int
    first_new: int


@dataclass(frozen=True, slots=True)
class _Opened:
    """A batch registered in the index, its candidate pairs not yet verified."""

    batch: _Batch
    signatures: np.ndarray
    first_doc: int
    first_new: int
    pairs: np.ndarray


class Deduplicator:
    """Finds and removes repeated paragraphs within and across documents, batch after batch."""

    def __init__(self, settings: Settings | None = None, index: Index | None = None, *,
                 clusters: bool = True) -> None:
        """``clusters=False`` skips what ``clusters()`` needs (a note per matched paragraph),
        so that a long-running job's memory grows with its index only."""
        self.settings = settings or Settings()
        s = self.settings
        self.hasher = MinHasher(num_perm=s.num_perm, seed=s.seed, ngram=s.ngram)
        self.banding: Banding = choose_banding(s.num_perm, s.lsh_recall_at)
        self.verifier = Verifier(s.threshold)
        self.fixer = Fixer(s.fixes)
        self.index = index if index is not None else self.new_index()
        self._notes: dict[int, Note] = {}
        self._edges: list[tuple[int, int]] = []
        self._agreement: Agreement | None = compiled.agreement()  # the gate's, when this install has it
        self._gate: Gate | None = compiled.gate()
        self._band_add = compiled.band_add()
        self._track_clusters = clusters
        self._windows = WindowCache()  # merged-line window scores and figures, kept across batches

    def new_index(self) -> Index:
        return Index(self.banding, self.settings.num_perm)

    # -- entry points ------------------------------------------------------------------------------

    def run(self, documents: Iterable[Document], progress: Progress | None = None) -> Result:
        """Clean ``documents`` together, from a fresh index, in ``id`` order (so their order
        does not matter); return every result and the clusters."""
        docs = sorted(documents, key=lambda d: d.id)
        for a, b in pairwise(docs):
            if a.id == b.id:
                raise ValueError(f"two documents share the id {a.id!r}")
        worker = Deduplicator(self.settings)
        results = tuple(worker.clean(docs, progress=progress))
        return Result(self.settings, results, worker.clusters())

    def clean(self, documents: Iterable[Document], progress: Progress | None = None,
              batch_chars: int = BATCH_CHARS, jobs: int = 1) -> Iterator[DocumentResult]:
        """Clean ``documents`` in the order given, against everything this object has seen
        before; yield one result per document, lazily, in the same order.

        With ``jobs > 1``, worker processes segment, fix, key and sign the documents (the
        per-document work), two batches ahead of the main process, and verify each batch's
        candidate pairs; the main process keeps the index, registers each batch and plans the
        one before it meanwhile. An input of one batch under ``SMALL_INPUT_CHARS`` is cleaned in
        this process all the same: starting the workers would take longer than the work. Results
        are the same for any number of jobs.
        """
        batches = self._batches(documents, batch_chars)
        if jobs > 1:
            first = next(batches, None)
            if first is None:
                return
            size = sum(len(doc.text) for doc in first)
            # a batch short of batch_chars is the last one (all of the input when it is the first)
            if (size < batch_chars or self._one_batch()) and size < SMALL_INPUT_CHARS:
                jobs = 1
            batches = chain([first], batches)
        if jobs <= 1:
            for batch in batches:
                prepared = [prepare(doc, self.fixer) for doc in batch]
                yield from self._process(batch, prepared, progress)
            return
        forking = "fork" in multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if forking else "spawn")
        shared = self._share_keys() if forking else None  # before the pool forks its workers
        with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_start_worker,
                                 initargs=(os.getpid(),)) as pool, \
                ThreadPoolExecutor(max_workers=1, thread_name_prefix="dedup-index") as helper:
            report = progress or _silent
            # Batch k+1 is registered before batch k is planned: a helper thread puts k+1 into
            # the LSH table and gates its candidates while this thread plans k (compiled loops
            # without the GIL; the plan reads neither the table nor the sketches), then k+1's
            # pairs go to the workers, which verify them and prepare k+2 while k's results are
            # consumed and k+1 is planned. Planning k looks only at paragraphs before k's end,
            # which batch k+1 does not change (see ``_close``). The pool is first in, first out,
            # and always has work queued. Batch k's results come once batch k+2 has been read,
            # as before the overlap (a slow stream waits no longer for them). A stored index
            # decides each batch before the next.
            overlap = self.index.overlaps_batches()
            ahead: deque[tuple[list[Document], list[_Chunk]]] = deque()
            for _ in range(PREPARED_AHEAD):
                self._prepare_next(pool, batches, jobs, ahead)
            waiting: tuple[_Opened, Callable[[], list[Checked]]] | None = None
            while ahead:
                docs, work = ahead.popleft()
                chunks = self._prepared(work)
                prepared = [p for c in chunks for p in c[0]]
                key_signatures = np.concatenate([c[1] for c in chunks])
                key_bands = np.concatenate([c[2] for c in chunks])
                closed: list[DocumentResult] = []
                if overlap and waiting is not None:
                    # the batch's LSH and gate in the helper thread while this one plans the last
                    registered = self._begin(docs, prepared, report, key_signatures, key_bands)
                    pending = helper.submit(self._candidate_pairs, registered)
                    closed = self._close(*waiting, report, pending)
                    try:
                        opened = pending.result()
                    except BaseException:
                        self._rollback()
                        raise
                else:
                    opened = self._open(docs, prepared, report, key_signatures, key_bands)
                try:
                    checks = self._share_checks(pool, opened.pairs, jobs, report, shared)
                except BaseException:
                    self._rollback()
                    raise
                if overlap:
                    yield from closed
                    waiting = (opened, checks)
                try:
                    self._prepare_next(pool, batches, jobs, ahead)
                except BaseException:
                    self._rollback()
                    raise
                if not overlap:
                    yield from self._close(opened, checks, report)
            if waiting is not None:
                yield from self._close(*waiting, report)

    def _prepare_next(self, pool: ProcessPoolExecutor, batches: Iterator[list[Document]], jobs: int,
                      ahead: deque[tuple[list[Document], list[_Chunk]]]) -> None:
        """Send the next batch (if any) to the workers to prepare."""
        batch = next(batches, None)
        if batch is not None:
            ahead.append((batch, self._share_preparation(pool, batch, jobs)))

    def _batches(self, documents: Iterable[Document], batch_chars: int) -> Iterator[list[Document]]:
        """Documents grouped into batches of about ``batch_chars`` characters (one batch for
        keep=longest and boilerplate detection, which need the whole input at once)."""
        whole = self._one_batch()
        batch: list[Document] = []
        size = 0
        for doc in documents:
            batch.append(doc)
            size += len(doc.text)
            if size >= batch_chars and not whole:
                yield batch
                batch, size = [], 0
        if batch:
            yield batch

    def _one_batch(self) -> bool:
        """Whether these settings need the whole input in one batch (see ``_batches``)."""
        return self.settings.keep == KEEP_LONGEST or self.settings.boilerplate != BOILERPLATE_OFF

    def clusters(self) -> tuple[Cluster, ...]:
        """Paragraphs linked by verified matches so far, each with its canonical copy first."""
        if not self._track_clusters:
            raise RuntimeError("this Deduplicator was made with clusters=False")
        index = self.index
        groups = components(index.paragraphs, self._edges, list(range(index.paragraphs)))
        return build_clusters(groups, self._notes, self._ref)

    # -- one batch -----------------------------------------------------------------------------

    def _process(self, docs: list[Document], prepared: list[Prepared],
                 progress: Progress | None) -> list[DocumentResult]:
        report = progress or _silent
        opened = self._open(docs, prepared, report)
        return self._close(opened, lambda: self._check(opened.pairs, report), report)

    def _open(self, docs: list[Document], prepared: list[Prepared], report: Progress,
              key_signatures: np.ndarray | None = None, key_bands: np.ndarray | None = None) -> _Opened:
        """Register a prepared batch in the index and find its candidate pairs (``key_signatures``
        and ``key_bands``: the signature and band values of every key of the batch in order, when
        the workers computed them). Until ``_close`` the batch is open: a failure must roll the
        index back."""
        registered = self._begin(docs, prepared, report, key_signatures, key_bands)
        try:
            return self._candidate_pairs(registered)
        except BaseException:
            self._rollback()
            raise

    def _begin(self, docs: list[Document], prepared: list[Prepared], report: Progress,
               key_signatures: np.ndarray | None, key_bands: np.ndarray | None) -> _Registered:
        """The first half of ``_open``: the batch registered, its sketches not yet indexed."""
        index = self.index
        index.begin_batch()  # a persistent index locks the file and catches up here
        try:
            first_doc = len(index.doc_ids)
            report("sign", 0, len(docs))
            batch, signatures, bands = self._register(docs, prepared, key_signatures, key_bands)
            report("index", len(docs), len(docs))
        except BaseException:
            self._rollback()
            raise
        return _Registered(batch, signatures, bands, first_doc, self._first_new_key)

    def _candidate_pairs(self, registered: _Registered) -> _Opened:
        """The second half of ``_open``: the batch's sketches into the LSH table and the gate.
        Numpy and compiled loops that let go of the GIL, so with --jobs a helper thread runs it
        while the main thread plans the batch before (which reads neither the table nor the
        sketches)."""
        index = self.index
        r = registered
        if index.bands.compiled is None:
            index.bands.compiled = self._band_add  # the same table, faster (None: numpy's)
        candidates = index.add_sketches(r.first_new, r.signatures, r.bands)
        pairs = plausible_pairs(candidates, index, count=self._agreement, compiled_gate=self._gate)
        return _Opened(r.batch, r.signatures, r.first_doc, r.first_new, pairs)

    def _rollback(self) -> None:
        """Undo the open batch in the index; key ids may then be given to other texts, so the
        scores remembered by key ids go too."""
        self._windows.clear()
        self.index.rollback_batch()

    def _close(self, opened: _Opened, checked: Callable[[], list[Checked]], report: Progress,
               pending: Future[_Opened] | None = None) -> list[DocumentResult]:
        """Record what verification found (``checked()``, one entry per candidate pair), plan
        the batch and commit it (``pending``: the next batch's LSH work, running meanwhile;
        waited for before a failure rolls the index back)."""
        index = self.index
        batch = opened.batch
        try:
            index.piece_keys.update(batch.piece_keys)  # here, not when registered: see clean()
            found, containers = self._record(opened.pairs, checked())
            plan = Planner(self.settings, self.verifier, self._windows).plan(index, batch.lo, batch.hi)
            report("apply", 0, len(batch.docs))
            results = self._results(batch, plan, opened)
            index.commit_batch(opened.first_new, opened.first_doc, batch.lo, opened.signatures, found, containers)
            index.settle(opened.first_new + len(opened.signatures))
        except BaseException:
            if pending is not None:
                wait([pending])
            self._rollback()
            raise
        return results

    def _share_preparation(self, pool: ProcessPoolExecutor, batch: list[Document], jobs: int) -> list[_Chunk]:
        size = max(1, len(batch) // (4 * jobs))
        chunks = [batch[i : i + size] for i in range(0, len(batch), size)]
        return [(pool.submit(_prepare_chunk, self.settings, self.index.banding, docs), docs)
                for docs in chunks]

    def _prepared(self, work: list[_Chunk]) -> list[_PreparedChunk]:
        """The prepared chunks of a batch, in order. A chunk no worker has started yet is
        prepared here rather than waited for, the last first (same values: a pure function):
        early in a run, planning against a small index is quick and the main process would
        otherwise sit idle while the workers catch up."""
        done: dict[int, _PreparedChunk] = {}
        for k in range(len(work) - 1, -1, -1):
            future, docs = work[k]
            if future.cancel():  # only a call still waiting in the pool's queue can be
                done[k] = _prepare_chunk(self.settings, self.index.banding, docs)
        return [done[k] if k in done else future.result() for k, (future, _) in enumerate(work)]

    def _share_keys(self) -> _SharedKeys | None:
        """The key file, made now if need be, for the workers about to be forked to read."""
        keys = self.index.keys
        if not isinstance(keys, KeyTexts):
            return None
        fd = keys.share()
        return None if fd is None else _SharedKeys(keys, fd, file_identity(fd))

    def _share_checks(self, pool: ProcessPoolExecutor, pairs: np.ndarray, jobs: int,
                      report: Progress, shared: _SharedKeys | None = None) -> Callable[[], list[Checked]]:
        """Send candidate pairs (with their texts, or where to read them in the shared key file)
        to the workers; return how to collect the results, in pair order. A few pairs are not
        worth the trip."""
        if len(pairs) < MIN_PAIRS_TO_SHARE:
            return lambda: self._check(pairs, report)
        keys = self.index.keys
        size = -(-len(pairs) // (4 * jobs))
        futures = []
        if shared is not None and shared.keys is keys and shared.keys.write_through():
            for k in range(0, len(pairs), size):
                chunk = pairs[k : k + size]
                ids = np.unique(chunk)  # sorted: read in file order
                starts, ends = shared.keys.spans(ids)
                futures.append(pool.submit(_check_shared_chunk, self.verifier.threshold, chunk,
                                           shared.fd, shared.identity, ids, starts, ends))
        else:
            items = pairs.tolist()
            for k in range(0, len(items), size):
                part = items[k : k + size]
                kids = sorted({i for pair in part for i in pair})  # in id order: earlier keys sit together
                futures.append(pool.submit(_check_chunk, self.verifier.threshold, part, {i: keys[i] for i in kids}))

        def collect() -> list[Checked]:
            out: list[Checked] = []
            report("verify", 0, len(pairs))
            for f in futures:
                out.extend(f.result())
                report("verify", len(out), len(pairs))
            return out

        return collect

    def _register(self, docs: list[Document], prepared: list[Prepared],
                  key_signatures: np.ndarray | None = None,
                  key_bands: np.ndarray | None = None) -> tuple[_Batch, np.ndarray, np.ndarray | None]:
        """Add a prepared batch to the index; return it and the signatures of its new keys (from
        ``key_signatures``, every key's of the batch, when the workers computed them, else
        computed here for the new keys only), and their band values when ``key_bands`` has
        every key's."""
        index = self.index
        self._first_new_key = first = len(index.keys)
        lo = index.paragraphs
        numbers: list[int] = []
        pieces: set[int] = set()
        new_rows: list[int] = []  # position among the batch's keys of each new key
        index.prefetch(key for prep in prepared for key in prep.keys)
        intern = index.intern
        at = 0  # position of the document's first key among the batch's keys
        for doc, prep in zip(docs, prepared, strict=True):
            seg = prep.segments
            kids: list[int] = []
            for row, key in enumerate(prep.keys, at):
                kid = intern(key)
                if kid == first + len(new_rows):
                    new_rows.append(row)
                kids.append(kid)
            numbers.append(index.add_columns(doc.id, kids, seg.starts, seg.ends))
            if seg.continued:  # pieces of an over-long paragraph: cut from one line, never lines run together
                lo_d, _ = index.doc_range(numbers[-1])
                pieces.update(index.para_key[lo_d + i] for i in range(len(seg))
                              if i in seg.continued or i + 1 in seg.continued)
            at += len(prep.keys)
        rows = np.asarray(new_rows, dtype=np.int64)
        signatures = key_signatures[rows] if key_signatures is not None else self.hasher.signatures(index.keys[first:])
        bands = key_bands[rows] if key_bands is not None else None
        return _Batch(docs, prepared, numbers, lo, index.paragraphs, frozenset(pieces)), signatures, bands

    def _check(self, pairs: np.ndarray, report: Progress) -> list[Checked]:
        """Verify candidate pairs of keys, here in the main process."""
        keys = self.index.keys
        verifier = self.verifier
        total = len(pairs)
        report("verify", 0, total)
        out: list[Checked] = []
        for n, (i, j) in enumerate(pairs.tolist()):
            out.append(verify_pair(verifier, i, keys[i], j, keys[j]))
            if n % 4096 == 4095:
                report("verify", n + 1, total)
        report("verify", total, total)
        return out

    def _record(self, pairs: np.ndarray, checked: list[Checked]) -> tuple[list[KeyMatch], list[tuple[int, int]]]:
        """Record verified matches and merge containers in the index; return the new ones."""
        if len(checked) != len(pairs):
            raise RuntimeError(f"{len(checked)} verification results for {len(pairs)} candidate pairs")
        index = self.index
        found: list[KeyMatch] = []
        containers: list[tuple[int, int]] = []
        for matches, container in checked:
            found.extend(matches)
            if container is not None and container[0] not in index.piece_keys:
                index.containers.setdefault(container[0], []).append(container[1])
                containers.append(container)
        index.add_matches(found)
        return found, containers

    # -- results ---------------------------------------------------------------------------------

    def _ref(self, gid: int) -> ParagraphRef:
        index = self.index
        return ParagraphRef(index.doc_ids[index.para_doc[gid]], index.para_index[gid],
                            index.para_start[gid], index.para_end[gid])

    def _results(self, batch: _Batch, plan: Plan, opened: _Opened) -> list[DocumentResult]:
        index = self.index
        boilerplate = self._boilerplate(batch)
        remove_boilerplate = self.settings.boilerplate == BOILERPLATE_REMOVE
        for gid in plan.removed:
            index.removed[gid] = 1
        if remove_boilerplate:
            for gid in boilerplate:
                index.removed[gid] = 1
        if self._track_clusters:
            self._remember(plan, boilerplate if remove_boilerplate else {})
        estimates = self._estimates(plan, opened)
        results: list[DocumentResult] = []
        for doc, prep, d in zip(batch.docs, batch.prepared, batch.doc_numbers, strict=True):
            lo, hi = index.doc_range(d)
            removals: dict[int, Removal] = {}
            for gid in range(lo, hi):
                decision = plan.removed.get(gid)
                if decision is not None:
                    src = decision.source
                    removals[gid - lo] = Removal(src.rule, decision.reason, round(src.score, 4),
                                                 tuple(self._ref(q) for q in src.kept), src.kept[0], estimates[gid])
            found = {gid - lo: n for gid, n in boilerplate.items() if lo <= gid < hi}
            results.append(document_result(doc, prep, removals, found, remove_boilerplate))
        return results

    def _estimates(self, plan: Plan, opened: _Opened) -> dict[int, float]:
        """MinHash Jaccard estimates of each removed paragraph and the copy it was verified
        against, for the record (datasketch's estimator on full signatures, rounded)."""
        keys, para_key = self.index.keys, self.index.para_key
        # an exact copy has the same key, hence the same signature: its estimate is 1.0; other
        # pairs are estimated once however often they recur (a re-scraped stream repeats them)
        different = sorted({(para_key[g], d.source.key) for g, d in plan.removed.items()
                            if para_key[g] != d.source.key})
        # the batch's new keys were signed already; only keys of earlier batches are signed again
        first, batch_signatures = opened.first_new, opened.signatures
        earlier = sorted({k for pair in different for k in pair if k < first})
        table = np.concatenate([self.hasher.signatures([keys[k] for k in earlier]), batch_signatures])
        row_of = {k: row for row, k in enumerate(earlier)}
        shift = len(earlier) - first  # a key of this batch: its row in ``table``

        def rows(side: int) -> np.ndarray:
            return np.fromiter((row_of[p[side]] if p[side] < first else p[side] + shift for p in different),
                               dtype=np.int64, count=len(different))

        # datasketch's estimator (``jaccard_estimate``), every pair at once: agreeing values / num_perm
        agree = np.count_nonzero(table[rows(0)] == table[rows(1)], axis=1).tolist()
        width = table.shape[1]
        estimate = {pair: round(n / width, 4) for pair, n in zip(different, agree, strict=True)}
        return {g: 1.0 if para_key[g] == d.source.key else estimate[para_key[g], d.source.key]
                for g, d in plan.removed.items()}

    def _remember(self, plan: Plan, boilerplate: dict[int, int]) -> None:
        """Keep what ``scan`` needs about this batch: the match edges, and the status of every
        paragraph that matched an earlier one."""
        edges, notes = notes_of(plan, self.index, self.settings, boilerplate)
        self._edges.extend(edges)
        self._notes.update(notes)

    def _boilerplate(self, batch: _Batch) -> dict[int, int]:
        """Paragraphs whose (short) key occurs in at least ``boilerplate_min_docs`` documents,
        with that number of documents. Found from the input itself, in any language."""
        s = self.settings
        if s.boilerplate == BOILERPLATE_OFF:
            return {}
        index = self.index
        docs_of: dict[int, set[int]] = {}
        for gid in range(batch.lo, batch.hi):
            kid = index.para_key[gid]
            if 0 < index.key_len[kid] <= s.boilerplate_max_chars:
                docs_of.setdefault(kid, set()).add(index.para_doc[gid])
        common = {kid: len(ds) for kid, ds in docs_of.items() if len(ds) >= s.boilerplate_min_docs}
        return {gid: common[index.para_key[gid]] for gid in range(batch.lo, batch.hi)
                if index.para_key[gid] in common}


def _fix_edits(doc: Document, seg: Segments, fixes: Sequence[Fix], removals: list[tuple[int, int]]) -> list[Edit]:
    """The document's text fixes, except those inside removed paragraphs (their text is gone)."""
    out: list[Edit] = []
    starts = [a for a, _ in removals]
    for f in fixes:
        i = bisect_right(starts, f.start) - 1
        if (i >= 0 and f.start < removals[i][1]) or (i + 1 < len(removals) and removals[i + 1][0] < f.end):
            continue  # overlaps a removal
        k = bisect_right(seg.line_starts, f.start) - 1
        para = None
        if k >= 0 and f.end <= seg.line_ends[k]:
            para = ParagraphRef(doc.id, k, seg.starts[k], seg.ends[k])
        out.append(Edit(
            op=REPLACE, start=f.start, end=f.end, old=doc.text[f.start : f.end], new=f.new,
            rule="+".join(f.rules), reason=f.note, paragraph=para, kept=(), cluster=None,
            score=None, estimate=None,
        ))
    return out


def clean_texts(texts: Iterable[str], settings: Settings | None = None) -> list[str]:
    """Clean a sequence of texts together (within and across them); returns the cleaned texts
    in the same order. The simplest entry point; use ``Deduplicator`` for edits and clusters."""
    docs = [Document(f"{i:012d}", t) for i, t in enumerate(texts)]
    result = Deduplicator(settings).run(docs)
    return [r.cleaned for r in result.documents]
