"""Planning from collected columns (``dedup.driver``, what a Spark run does on its driver) gives the
embedded engine's decisions and clusters, whatever key texts the driver holds at first."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest
from corpus import generate

from dedup import Deduplicator, Document, DocumentResult, Settings
from dedup.driver import (
    NEAR,
    Collected,
    DriverPlan,
    HeldKeys,
    HeldPrints,
    clusters_from_labels,
    plan_collected,
    union_find_labels,
)
from dedup.index import Index
from dedup.keys import figure_print
from dedup.model import REMOVE
from dedup.verify import KeyMatch


def _columns(index: Index, held: str) -> Collected:
    """What a distributed run would collect from the run ``index`` describes: only documents
    with a paragraph whose key has a copy, and key texts near such paragraphs (``held="near"``),
    for no paragraph (``"none"``) or for all (``"all"``)."""
    n = index.paragraphs
    para_key = np.array(index.para_key, dtype=np.int64)
    para_doc = np.array(index.para_doc, dtype=np.int64)
    in_match = {k for ms in index.matches.values() for m in ms for k in (m.kept, m.removed)}
    in_match |= {k for long, shorts in index.containers.items() for k in (long, *shorts)}
    counts = np.bincount(para_key, minlength=len(index.keys))
    involved = np.array([counts[k] > 1 or k in in_match for k in para_key.tolist()], dtype=bool)
    docs = sorted(set(para_doc[involved].tolist()))
    rows = np.flatnonzero(np.isin(para_doc, docs))
    near = np.zeros(n, dtype=bool)
    for g in np.flatnonzero(involved).tolist():
        lo, hi = index.doc_range(index.para_doc[g])
        near[max(lo, g - NEAR) : min(hi, g + NEAR + 1)] = True
    held_keys = {"near": {int(para_key[g]) for g in np.flatnonzero(near).tolist()}, "none": set(),
                 "all": set(range(len(index.keys)))}[held]
    kids = sorted(set(para_key[rows].tolist()))
    return Collected(
        doc_numbers=np.array(docs, dtype=np.int64) * 10,  # any increasing numbers
        doc_ids=[index.doc_ids[d] for d in docs],
        para_doc=para_doc[rows] * 10,
        para_index=np.array(index.para_index, dtype=np.int64)[rows],
        para_gid=rows.astype(np.int64),
        para_key=para_key[rows] * 3 + 5,  # any increasing key ids
        para_start=np.array(index.para_start, dtype=np.int64)[rows],
        para_end=np.array(index.para_end, dtype=np.int64)[rows],
        key_len={k * 3 + 5: index.key_len[k] for k in kids},
        key_text={k * 3 + 5: index.keys[k] for k in kids if k in held_keys},
        matches=[KeyMatch(m.kept * 3 + 5, m.removed * 3 + 5, m.rule, m.score)
                 for ms in index.matches.values() for m in ms],
        containers=[(long * 3 + 5, short * 3 + 5) for long, shorts in index.containers.items() for short in shorts],
    )


def _plan(docs: list[Document], settings: Settings, held: str) -> tuple[Deduplicator, list[DocumentResult],
                                                                          DriverPlan]:
    dedup = Deduplicator(settings)
    results = list(dedup.clean(sorted(docs, key=lambda d: d.id)))
    index = dedup.index
    fetched: list[int] = []

    def fetch(kids: list[int]) -> Mapping[int, str]:
        fetched.extend(kids)
        return {k: index.keys[(k - 5) // 3] for k in kids}

    columns = _columns(index, held)
    plan = plan_collected(settings, dedup.verifier, dedup.banding, columns, fetch)
    assert "solo.txt" not in columns.doc_ids  # documents with no copy are not collected
    assert plan.fetches == 0 if held == "all" else plan.fetches <= 2
    return dedup, results, plan


@pytest.mark.parametrize("held", ["near", "none", "all"])
@pytest.mark.parametrize("settings", [Settings(), Settings(keep="longest"), Settings(scope="document", min_chars=30)],
                         ids=["defaults", "longest", "document-scope"])
def test_driver_plan_is_the_embedded_plan(held: str, settings: Settings) -> None:
    docs = [*generate(60, seed=3), Document("solo.txt", "Nothing here is said anywhere else, by anyone at all.\n")]
    dedup, results, plan = _plan(docs, settings, held)
    removals = {(r.document.id, e.paragraph.index): (e.rule, e.reason, e.score, e.kept, e.cluster)
                for r in results for e in r.edits if e.op == REMOVE and e.paragraph is not None}
    assert len(removals) > 100
    doc_id = {n * 10: d.id for n, d in enumerate(sorted(docs, key=lambda d: d.id))}
    got = {(doc_id[d.doc_number], d.index): (d.rule, d.reason, d.score, tuple(k.ref for k in d.kept), d.cluster)
           for d in plan.decisions}
    assert got == removals
    assert all(k.doc_number == {v: n for n, v in doc_id.items()}[k.ref.doc] for d in plan.decisions for k in d.kept)
    if held == "none":
        assert plan.fetches >= 1
    assert clusters_from_labels(plan, union_find_labels(plan.edges)) == dedup.clusters()


def test_a_placeholder_is_never_planned_with() -> None:
    """A key the driver does not hold reads as a placeholder and is fetched before the final plan."""
    held = HeldKeys([3, 4], {1: "abcd"})
    assert held[1] == "abcd" and not held.misses
    assert held[0] == "\x00" * 3 and held.misses == {0}
    held.hold({0: "xyz"})
    assert held[0] == "xyz"
    with pytest.raises(ValueError, match="expected 4"):
        held.hold({1: "toolong"})


def test_a_figure_print_is_remembered_only_once_its_key_is_held() -> None:
    held = HeldKeys([7, 4], {1: "ab 3"})
    prints = HeldPrints(held)
    assert prints[1] == figure_print("ab 3") != 0 and not held.misses
    assert prints[0] == 0 and held.misses == {0}  # a placeholder has no figures, and is a miss
    held.hold({0: "won 2-1"})
    assert list(prints) == [figure_print("won 2-1"), figure_print("ab 3")] and prints[0] != 0
