"""One forward flow: segment -> key -> sign -> index -> verify -> cluster -> plan -> apply.

``Deduplicator`` is the library entry point. It owns its settings and the objects derived from
them (hasher, banding, verifier) and nothing else: every run starts from the documents it is
given, so results never depend on earlier calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from dedup.apply import apply_edits, removal_spans
from dedup.cluster import components
from dedup.index import Banding, candidate_pairs, choose_banding
from dedup.keys import matching_key
from dedup.model import REMOVE, Cluster, Document, DocumentResult, Edit, Member, ParagraphRef
from dedup.plan import Plan, Planner, Table, is_list_item
from dedup.segment import Segments, segment
from dedup.settings import Settings
from dedup.signatures import MinHasher, jaccard_estimate
from dedup.verify import KeyMatch, Verifier

Progress = Callable[[str, int, int], None]

# Candidates whose keys both have at least GATE_MIN_CHARS characters must agree on a share of
# MinHash values of at least GATE_SHARE times their length ratio (a copy, a cut-short copy or a
# part of a merged line shares about that ratio of shingles). This only skips hopeless
# candidates before the costly text comparison; nothing is ever removed on the estimate.
GATE_MIN_CHARS = 60
GATE_SHARE = 0.5
# A key of at least LONG_KEY_CHARS characters (in practice a piece of an over-long paragraph; no
# paragraph of the development corpora comes near) is verified against at most
# MAX_LONG_CANDIDATES partners, those whose MinHash agrees best with it. Long texts in one
# language share many shingles, comparing two of them costs time in the square of their length,
# and a line of hundreds of megabytes of repetitive text would otherwise give quadratic time.
# Exact copies never need verification (equal keys are one key).
LONG_KEY_CHARS = 2_500
MAX_LONG_CANDIDATES = 8


def plausible_pairs(pairs: np.ndarray, signatures: np.ndarray, keys: Sequence[str]) -> np.ndarray:
    """The candidate pairs worth verifying (see ``GATE_SHARE`` and ``LONG_KEY_CHARS``)."""
    if len(pairs) == 0:
        return pairs
    lengths = np.fromiter((len(k) for k in keys), dtype=np.int64, count=len(keys))
    la, lb = lengths[pairs[:, 0]], lengths[pairs[:, 1]]
    short = np.minimum(la, lb)
    ratio = short / np.maximum(np.maximum(la, lb), 1)
    keep = short < GATE_MIN_CHARS
    agreement = np.ones(len(pairs))
    check = np.flatnonzero(~keep)
    for lo in range(0, len(check), 1 << 16):  # bounded memory for the (pairs x num_perm) compare
        idx = check[lo : lo + (1 << 16)]
        agree = (signatures[pairs[idx, 0]] == signatures[pairs[idx, 1]]).mean(axis=1)
        agreement[idx] = agree
        keep[idx] = agree >= GATE_SHARE * ratio[idx]
    long_a, long_b = la >= LONG_KEY_CHARS, lb >= LONG_KEY_CHARS
    if (long_a | long_b).any():
        keep &= ~(long_a | long_b) | _best_partners(pairs, agreement, keep & long_a, keep & long_b)
    kept: np.ndarray = pairs[keep]
    return kept


def _best_partners(pairs: np.ndarray, agreement: np.ndarray, end_a: np.ndarray, end_b: np.ndarray) -> np.ndarray:
    """A mask of the pairs that are among the ``MAX_LONG_CANDIDATES`` best (by agreement, then in
    pair order) of one of their long ends; ``end_a``/``end_b`` flag the ends to rank at."""
    idx = np.concatenate([np.flatnonzero(end_a), np.flatnonzero(end_b)])
    owner = np.concatenate([pairs[end_a, 0], pairs[end_b, 1]])
    order = np.lexsort((idx, -agreement[idx], owner))
    owner, idx = owner[order], idx[order]
    first = np.ones(len(owner), dtype=bool)
    first[1:] = owner[1:] != owner[:-1]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(owner)), 0))
    best = np.zeros(len(pairs), dtype=bool)
    best[idx[np.arange(len(owner)) - group_start < MAX_LONG_CANDIDATES]] = True
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
class _Corpus:
    docs: tuple[Document, ...]
    segments: tuple[Segments, ...]
    table: Table
    piece_keys: frozenset[int]  # keys of pieces of over-long paragraphs (never parts of a merged line)


class Deduplicator:
    """Finds and removes repeated paragraphs within and across the documents of one run."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        s = self.settings
        self.hasher = MinHasher(num_perm=s.num_perm, seed=s.seed, ngram=s.ngram)
        self.banding: Banding = choose_banding(s.num_perm, s.lsh_recall_at)
        self.verifier = Verifier(s.threshold)

    def run(self, documents: Iterable[Document], progress: Progress | None = None) -> Result:
        corpus = self._read(documents)
        report = progress or (lambda stage, done, total: None)
        keys = corpus.table.keys
        report("sign", 0, len(keys))
        signatures = self.hasher.signatures(keys)
        report("index", len(keys), len(keys))
        empty = np.fromiter((not k for k in keys), dtype=bool, count=len(keys))
        pairs = candidate_pairs(signatures, self.banding, skip=empty)
        pairs = plausible_pairs(pairs, signatures, keys)
        matches, containers = self._verify(keys, pairs, report)
        for k in corpus.piece_keys:  # pieces are cut from one long paragraph, not lines run together
            containers.pop(k, None)
        plan = Planner(self.settings, self.verifier).plan(corpus.table, matches, containers)
        report("apply", 0, len(corpus.docs))
        return self._results(corpus, plan, signatures)

    # -- read, segment, key -----------------------------------------------------------------------

    @staticmethod
    def _read(documents: Iterable[Document]) -> _Corpus:
        docs = tuple(sorted(documents, key=lambda d: d.id))
        for a, b in pairwise(docs):
            if a.id == b.id:
                raise ValueError(f"two documents share the id {a.id!r}")
        key_ids: dict[str, int] = {}
        keys: list[str] = []
        doc_col: list[int] = []
        index_col: list[int] = []
        key_col: list[int] = []
        doc_start: list[int] = []
        segs: list[Segments] = []
        piece_keys: set[int] = set()
        for d, doc in enumerate(docs):
            seg = segment(doc.text)
            segs.append(seg)
            doc_start.append(len(doc_col))
            text = doc.text
            for i, (s, e) in enumerate(zip(seg.starts, seg.ends, strict=True)):
                key = matching_key(text[s:e])
                kid = key_ids.get(key)
                if kid is None:
                    kid = key_ids[key] = len(keys)
                    keys.append(key)
                doc_col.append(d)
                index_col.append(i)
                key_col.append(kid)
                if seg.continued and (i in seg.continued or i + 1 in seg.continued):
                    piece_keys.add(kid)
        doc_start.append(len(doc_col))
        table = Table(doc_col, index_col, key_col, doc_start, keys)
        return _Corpus(docs, tuple(segs), table, frozenset(piece_keys))

    # -- verify ----------------------------------------------------------------------------------

    def _verify(self, keys: Sequence[str], pairs: np.ndarray,
                report: Progress) -> tuple[list[KeyMatch], dict[int, list[int]]]:
        matches: list[KeyMatch] = []
        containers: dict[int, list[int]] = {}
        total = len(pairs)
        report("verify", 0, total)
        compare = self.verifier.compare
        for n, (i, j) in enumerate(pairs.tolist()):
            found = compare(i, keys[i], j, keys[j])
            matches.extend(found)
            # Unless the longer key may already go in favour of the shorter, the shorter one may
            # be part of a merged line (checked in plan, where neighbours are known).
            if len(keys[i]) != len(keys[j]):
                short, long = (i, j) if len(keys[i]) < len(keys[j]) else (j, i)
                if not any(m.removed == long for m in found):
                    containers.setdefault(long, []).append(short)
            if n % 4096 == 4095:
                report("verify", n + 1, total)
        report("verify", total, total)
        return matches, containers

    # -- cluster, plan, apply --------------------------------------------------------------------

    def _results(self, corpus: _Corpus, plan: Plan, signatures: np.ndarray) -> Result:
        table = corpus.table

        def ref(gid: int) -> ParagraphRef:
            d = table.doc[gid]
            i = table.index[gid]
            seg = corpus.segments[d]
            return ParagraphRef(corpus.docs[d].id, i, seg.starts[i], seg.ends[i])

        edges = ((gid, q) for gid, srcs in plan.sources.items() for s in srcs for q in s.kept)
        groups = components(len(table), edges, plan.rank)
        cluster_of: dict[int, int] = {}
        clusters: list[Cluster] = []
        for cid, members in enumerate(groups):
            out: list[Member] = []
            for gid in members:
                cluster_of[gid] = cid
                out.append(self._member(gid, members[0], plan, table, ref))
            clusters.append(Cluster(cid, tuple(out)))

        removed_by_doc: dict[int, list[int]] = {}
        for gid in plan.removed:
            removed_by_doc.setdefault(table.doc[gid], []).append(gid)
        results: list[DocumentResult] = []
        for d, doc in enumerate(corpus.docs):
            seg = corpus.segments[d]
            gids = sorted(removed_by_doc.get(d, ()))
            spans = removal_spans(seg, [table.index[g] for g in gids])
            edits: list[Edit] = []
            for gid in gids:
                decision = plan.removed[gid]
                src = decision.source
                start, end = spans[table.index[gid]]
                estimate = jaccard_estimate(signatures[table.key_id[gid]], signatures[src.key])
                edits.append(Edit(
                    op=REMOVE, start=start, end=end, old=doc.text[start:end], new="",
                    rule=src.rule, reason=decision.reason, paragraph=ref(gid),
                    kept=tuple(ref(q) for q in src.kept), cluster=cluster_of[gid],
                    score=round(src.score, 4), estimate=round(estimate, 4),
                ))
            cleaned = apply_edits(doc.text, edits) if edits else doc.text
            results.append(DocumentResult(doc, seg.mode, len(seg), tuple(edits), cleaned))
        return Result(self.settings, tuple(results), tuple(clusters))

    def _member(self, gid: int, canonical: int, plan: Plan, table: Table,
                ref: Callable[[int], ParagraphRef]) -> Member:
        if gid == canonical:
            return Member(ref(gid), "canonical", None, None, "kept: first in keep order", ())
        decision = plan.removed.get(gid)
        if decision is not None:
            src = decision.source
            return Member(ref(gid), "removed", src.rule, round(src.score, 4), decision.reason,
                          tuple(ref(q) for q in src.kept))
        best = plan.sources[gid][0] if gid in plan.sources else None
        key = table.keys[table.key_id[gid]]
        if best is None:
            why = "kept: a copy of it was matched, not it"
        elif gid in plan.standing or gid in plan.in_run:
            why = "kept: every copy it matches was removed"
        elif is_list_item(key):
            why = "kept: list item outside a repeated run"
        else:
            why = f"kept: shorter than min_chars ({self.settings.min_chars}) outside a repeated run"
        return Member(ref(gid), "kept", best.rule if best else None,
                      round(best.score, 4) if best else None, why,
                      tuple(ref(q) for q in best.kept) if best else ())


def clean_texts(texts: Iterable[str], settings: Settings | None = None) -> list[str]:
    """Clean a sequence of texts together (within and across them); returns the cleaned texts
    in the same order. The simplest entry point; use ``Deduplicator`` for edits and clusters."""
    docs = [Document(f"{i:012d}", t) for i, t in enumerate(texts)]
    result = Deduplicator(settings).run(docs)
    return [r.cleaned for r in result.documents]
