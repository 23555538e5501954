"""One forward flow: segment -> key -> sign -> index -> verify -> cluster -> plan -> apply.

``Deduplicator`` is the library entry point. It owns its settings and the objects derived from
them (hasher, banding, verifier) and nothing else: every run starts from the documents it is
given, so results never depend on earlier calls.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from dedup.apply import apply_edits, removal_spans
from dedup.cluster import components
from dedup.fixes import Fixed, Fixer
from dedup.index import Banding, candidate_pairs, choose_banding
from dedup.keys import matching_key
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
from dedup.plan import Plan, Planner, Table, is_list_item
from dedup.segment import LINE, Segments, segment
from dedup.settings import BOILERPLATE_OFF, BOILERPLATE_REMOVE, Settings
from dedup.signatures import MinHasher, jaccard_estimate
from dedup.verify import KeyMatch, Verifier

Progress = Callable[[str, int, int], None]

# Candidates whose keys both have at least GATE_MIN_CHARS characters must agree on a share of
# MinHash values of at least GATE_SHARE times their length ratio (a copy, a cut-short copy or a
# part of a merged line shares about that ratio of shingles). This only skips hopeless
# candidates before the costly text comparison; nothing is ever removed on the estimate.
GATE_MIN_CHARS = 60
GATE_SHARE = 0.5


def plausible_pairs(pairs: np.ndarray, signatures: np.ndarray, keys: Sequence[str]) -> np.ndarray:
    """The candidate pairs worth verifying (see ``GATE_SHARE``)."""
    if len(pairs) == 0:
        return pairs
    lengths = np.fromiter((len(k) for k in keys), dtype=np.int64, count=len(keys))
    la, lb = lengths[pairs[:, 0]], lengths[pairs[:, 1]]
    short = np.minimum(la, lb)
    ratio = short / np.maximum(np.maximum(la, lb), 1)
    keep = short < GATE_MIN_CHARS
    check = np.flatnonzero(~keep)
    for lo in range(0, len(check), 1 << 16):  # bounded memory for the (pairs x num_perm) compare
        idx = check[lo : lo + (1 << 16)]
        agree = (signatures[pairs[idx, 0]] == signatures[pairs[idx, 1]]).mean(axis=1)
        keep[idx] = agree >= GATE_SHARE * ratio[idx]
    kept: np.ndarray = pairs[keep]
    return kept


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
    fixed: tuple[Fixed, ...]
    table: Table


class Deduplicator:
    """Finds and removes repeated paragraphs within and across the documents of one run."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings()
        s = self.settings
        self.hasher = MinHasher(num_perm=s.num_perm, seed=s.seed, ngram=s.ngram)
        self.banding: Banding = choose_banding(s.num_perm, s.lsh_recall_at)
        self.verifier = Verifier(s.threshold)
        self.fixer = Fixer(s.fixes)

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
        plan = Planner(self.settings, self.verifier).plan(corpus.table, matches, containers)
        report("apply", 0, len(corpus.docs))
        return self._results(corpus, plan, signatures)

    # -- read, segment, key -----------------------------------------------------------------------

    def _read(self, documents: Iterable[Document]) -> _Corpus:
        """Segment every document, fix it, and key its paragraphs (keys come from the fixed text,
        so a paragraph with mojibake matches its clean copy)."""
        docs = tuple(sorted(documents, key=lambda d: d.id))
        for a, b in pairwise(docs):
            if a.id == b.id:
                raise ValueError(f"two documents share the id {a.id!r}")
        segs = [segment(doc.text) for doc in docs]
        # A document without paragraphs (empty, or only whitespace) passes through untouched.
        fixed = self.fixer.fix_all([doc.text if len(seg) else "" for doc, seg in zip(docs, segs, strict=True)],
                                   [seg.mode == LINE for seg in segs])
        fixed = [f if len(seg) else Fixer.unchanged(doc.text) for f, seg, doc in zip(fixed, segs, docs, strict=True)]
        key_ids: dict[str, int] = {}
        keys: list[str] = []
        doc_col: list[int] = []
        index_col: list[int] = []
        key_col: list[int] = []
        doc_start: list[int] = []
        for d, (seg, fix) in enumerate(zip(segs, fixed, strict=True)):
            doc_start.append(len(doc_col))
            text = fix.text
            for i, (s, e) in enumerate(zip(seg.starts, seg.ends, strict=True)):
                fs, fe = fix.span(s, e) if fix.fixes else (s, e)
                key = matching_key(text[fs:fe])
                kid = key_ids.get(key)
                if kid is None:
                    kid = key_ids[key] = len(keys)
                    keys.append(key)
                doc_col.append(d)
                index_col.append(i)
                key_col.append(kid)
        doc_start.append(len(doc_col))
        table = Table(doc_col, index_col, key_col, doc_start, keys)
        return _Corpus(docs, tuple(segs), tuple(fixed), table)

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

        boilerplate = self._boilerplate(table)
        edges = ((gid, q) for gid, srcs in plan.sources.items() for s in srcs for q in s.kept)
        groups = components(len(table), edges, plan.rank)
        cluster_of: dict[int, int] = {}
        clusters: list[Cluster] = []
        for cid, members in enumerate(groups):
            out: list[Member] = []
            for gid in members:
                cluster_of[gid] = cid
                out.append(self._member(gid, members[0], plan, table, ref, boilerplate))
            clusters.append(Cluster(cid, tuple(out)))

        remove_boilerplate = self.settings.boilerplate == BOILERPLATE_REMOVE
        removed_by_doc: dict[int, list[int]] = {}
        for gid in set(plan.removed) | (set(boilerplate) if remove_boilerplate else set()):
            removed_by_doc.setdefault(table.doc[gid], []).append(gid)
        results: list[DocumentResult] = []
        for d, doc in enumerate(corpus.docs):
            seg = corpus.segments[d]
            gids = sorted(removed_by_doc.get(d, ()))
            spans = removal_spans(seg, [table.index[g] for g in gids])
            edits: list[Edit] = []
            for gid in gids:
                start, end = spans[table.index[gid]]
                decision = plan.removed.get(gid)
                if decision is None:  # boilerplate: every copy goes, none is kept
                    edits.append(Edit(
                        op=REMOVE, start=start, end=end, old=doc.text[start:end], new="",
                        rule=BOILERPLATE, reason=f"in {boilerplate[gid]} documents", paragraph=ref(gid),
                        kept=(), cluster=cluster_of.get(gid), score=None, estimate=None,
                    ))
                    continue
                src = decision.source
                estimate = jaccard_estimate(signatures[table.key_id[gid]], signatures[src.key])
                edits.append(Edit(
                    op=REMOVE, start=start, end=end, old=doc.text[start:end], new="",
                    rule=src.rule, reason=decision.reason, paragraph=ref(gid),
                    kept=tuple(ref(q) for q in src.kept), cluster=cluster_of[gid],
                    score=round(src.score, 4), estimate=round(estimate, 4),
                ))
            edits.extend(self._fix_edits(doc, seg, corpus.fixed[d], sorted(spans.values())))
            edits.sort(key=lambda e: e.start)
            cleaned = apply_edits(doc.text, edits) if edits else doc.text
            lo = table.doc_start[d]
            listed = tuple(Boilerplate(ref(g), boilerplate[g]) for g in range(lo, lo + len(seg)) if g in boilerplate)
            content = sum(e - s for s, e in zip(seg.starts, seg.ends, strict=True))
            results.append(DocumentResult(doc, seg.mode, len(seg), tuple(edits), cleaned, content, listed))
        return Result(self.settings, tuple(results), tuple(clusters))

    def _boilerplate(self, table: Table) -> dict[int, int]:
        """Paragraphs whose (short) key occurs in at least ``boilerplate_min_docs`` documents,
        with that number of documents. Found from the input itself, in any language."""
        s = self.settings
        if s.boilerplate == BOILERPLATE_OFF:
            return {}
        docs_of: dict[int, set[int]] = {}
        for gid in range(len(table)):
            kid = table.key_id[gid]
            if 0 < len(table.keys[kid]) <= s.boilerplate_max_chars:
                docs_of.setdefault(kid, set()).add(table.doc[gid])
        common = {kid: len(ds) for kid, ds in docs_of.items() if len(ds) >= s.boilerplate_min_docs}
        return {gid: common[table.key_id[gid]] for gid in range(len(table)) if table.key_id[gid] in common}

    @staticmethod
    def _fix_edits(doc: Document, seg: Segments, fixed: Fixed, removals: list[tuple[int, int]]) -> list[Edit]:
        """The document's text fixes, except those inside removed paragraphs (their text is gone)."""
        out: list[Edit] = []
        starts = [a for a, _ in removals]
        for f in fixed.fixes:
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

    def _member(self, gid: int, canonical: int, plan: Plan, table: Table,
                ref: Callable[[int], ParagraphRef], boilerplate: dict[int, int]) -> Member:
        if gid in boilerplate and self.settings.boilerplate == BOILERPLATE_REMOVE:
            return Member(ref(gid), "removed", BOILERPLATE, None, f"in {boilerplate[gid]} documents", ())
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
