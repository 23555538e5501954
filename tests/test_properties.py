"""Properties that hold for any input (hypothesis)."""

from __future__ import annotations

import random

from conftest import removal, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup.apply import restore
from dedup.keys import marks_in, matching_key
from dedup.verify import Verifier

# Paragraph material: real sentences (so duplicates are long enough to matter), short labels,
# list items, and noise that scrapers add.
SENTENCES = [
    "The council opened a floating library on the old harbour on Saturday, in a former ferry.",
    "The ferry will stay moored at the north pier until October, then move to the river mouth.",
    "About eighty visitors fit in the reading room, which has a lift for wheelchair users too.",
    "Le ministre a signé à Rabat un protocole d’accord pour encadrer les relations sécuritaires.",
    "Die Gummifische mit den schweren Jigköpfen fliegen bei mir schön weit, sagte der Angler.",
    "Derby and Preston drew 1-1 on Sunday; Moreau equalised in the 32nd minute of the match.",
    "Derby and Preston drew 2-2 on Sunday; Moreau equalised in the 81st minute of the match.",
]
SHORT = ["Summary", "- Eintritt: 44,90 €", "Click to enlarge", "*", "1. Paderborn – 57 Punkte"]
NOISE = ["", " …", " Read more: Ten tips for your garden", "&nbsp;", "\u00ad"]


@st.composite
def paragraph(draw: st.DrawFn) -> str:
    base = draw(st.sampled_from(SENTENCES + SHORT))
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return base
    if kind == 1:  # a typo
        i = draw(st.integers(0, max(len(base) - 2, 0)))
        return base[:i] + base[i + 1 : i + 2] + base[i : i + 1] + base[i + 2 :]
    if kind == 2:  # truncated
        return base[: draw(st.integers(len(base) // 2, len(base)))] + "…"
    if kind == 3:
        return base + draw(st.sampled_from(NOISE))
    return draw(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40))


@st.composite
def document(draw: st.DrawFn) -> str:
    """A document with one separator throughout, as scrapers write them. (A document mixing
    single and double newlines whose cleaning leaves a single multi-line block is read line by
    line on a second run; see the README's limits.)"""
    paras = [p.replace("\n", " ").replace("\r", " ") for p in draw(st.lists(paragraph(), max_size=10))]
    sep = draw(st.sampled_from(["\n", "\n\n", "\r\n"]))
    end = draw(st.sampled_from(["", "\n"]))
    return sep.join(p for p in paras if p.strip()) + end


corpus = st.dictionaries(st.sampled_from(["a.txt", "b.txt", "c.txt", "d/e.txt"]), document(), min_size=1, max_size=4)
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(corpus)
def test_clean_is_idempotent(docs: dict[str, str]) -> None:
    once = {d.document.id: d.cleaned for d in run(docs).documents}
    twice = {d.document.id: d.cleaned for d in run(once).documents}
    assert twice == once


@SETTINGS
@given(corpus)
def test_restore_rebuilds_every_input(docs: dict[str, str]) -> None:
    for d in run(docs).documents:
        assert restore(d.cleaned, d.edits) == d.document.text


@SETTINGS
@given(corpus, st.randoms(use_true_random=False))
def test_input_order_does_not_change_the_result(docs: dict[str, str], rnd: random.Random) -> None:
    items = list(docs.items())
    rnd.shuffle(items)
    assert run(dict(items)) == run(docs)


@SETTINGS
@given(corpus)
def test_every_removal_has_a_kept_copy_that_passes_verification(docs: dict[str, str]) -> None:
    result = run(docs, fixes=())  # keys of the raw text: no fix changes what is compared
    text = {d.document.id: d.document.text for d in result.documents}
    removed = {(removal(e)[0].doc, removal(e)[0].index) for d in result.documents for e in d.edits}
    verifier = Verifier(result.settings.threshold)
    for d in result.documents:
        for e in d.edits:
            para, score = removal(e)
            assert score >= result.settings.threshold
            assert not {(k.doc, k.index) for k in e.kept} & removed
            mine = matching_key(text[para.doc][para.start : para.end])
            kept = " ".join(matching_key(text[k.doc][k.start : k.end]) for k in e.kept)
            if e.rule == "exact":
                assert mine == kept
            elif e.rule in ("near", "merged"):
                assert verifier.near(mine, kept) is not None
            elif e.rule == "truncated":
                assert verifier.truncated(mine, kept) is not None
            else:
                assert verifier.tail(kept, mine) is not None


@SETTINGS
@given(st.lists(st.sampled_from(SENTENCES + SHORT), unique=True, max_size=12), st.sampled_from(["\n", "\n\n"]))
def test_text_without_repeats_comes_back_unchanged(paras: list[str], sep: str) -> None:
    text = sep.join(paras) + "\n"
    assert run({"a": text}).documents[0].cleaned == text


@SETTINGS
@given(corpus, st.integers(1, 400))
def test_batch_size_does_not_change_the_result(docs: dict[str, str], batch_chars: int) -> None:
    from dedup import Deduplicator, Document

    ordered = [Document(k, docs[k]) for k in sorted(docs)]
    whole = run(docs)
    batched = list(Deduplicator().clean(ordered, batch_chars=batch_chars))
    assert [(d.cleaned, d.edits) for d in batched] == [(d.cleaned, d.edits) for d in whole.documents]


MARKED = st.text(alphabet=st.sampled_from("aeEß ŉ'’‘“”«»–—-\u00ad\u200b&;#x2019ﬁＡ＂`´é\u0301İ\n"), max_size=60)


@SETTINGS
@given(MARKED, st.integers(0, 60), st.integers(0, 60))
def test_keys_folded_with_the_marks_of_their_document_equal_keys_folded_with_all(doc: str, a: int, b: int) -> None:
    part = doc[min(a, b) : max(a, b)]
    assert matching_key(part, marks_in(doc)) == matching_key(part)
