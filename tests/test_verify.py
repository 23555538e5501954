import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from dedup.keys import figures, is_number, matching_key
from dedup.verify import (
    NEAR,
    TAIL,
    TRUNCATED,
    Verifier,
    Vocab,
    content_preserved,
    is_link_tail,
    novel_words,
    same_figures,
    strip_ellipsis,
)

V = Verifier(0.85)
BASE = ("The Islanders trailed by two late in the third period before goals by Josh Bailey and Ryan "
        "Pulock forced overtime, and Nelson won it with a shot that trickled past Matt Murray.")


def k(text: str) -> str:
    return matching_key(text)


def test_near_copy_with_typo_whitespace_and_quotes() -> None:
    other = BASE.replace("Murray", "Muray").replace("third", "third ").replace("won it", "won  it")
    assert V.near(k(other), k(BASE)) is not None


def test_transposition_typos_are_tolerated() -> None:
    assert novel_words("the border is arcoss the river", "the border is across the river") == []
    assert novel_words("teh news", "the news") == []
    assert novel_words("men", "women") == ["men"]


def test_split_and_joined_words_are_not_new() -> None:
    assert novel_words("first class seats", "firstclass seats") == []
    assert novel_words("firstclass seats", "first class seats") == []


def test_template_with_other_teams_and_scores_is_not_a_duplicate() -> None:
    a = "Derby and Preston drew 1-1 on Sunday; Moreau equalised in the 32nd minute after a goalless first half."
    b = "Swansea and Bristol City drew 4-4 on Saturday; Nielsen equalised in the 72nd minute after a goalless half"
    assert V.near(k(b), k(a)) is None
    assert V.compare(0, k(a), 1, k(b)) == []


def test_numbers_must_match() -> None:
    a = "Offer valid until 23 March 2024 for new customers only. Minimum deposit 50 euros."
    b = "Offer valid until 30 March 2024 for new customers only. Minimum deposit 50 euros."
    assert not same_figures(k(a), k(b))
    assert V.compare(0, k(a), 1, k(b)) == []


def test_one_inserted_word_passes_but_a_substituted_word_does_not() -> None:
    kept = "A rep for Braun did not immediately respond to a request for comment on Monday evening."
    assert content_preserved(k(kept.replace("for Braun", "for now Braun")), k(kept))
    assert not content_preserved(k(kept.replace("Braun", "Miller")), k(kept))
    assert not content_preserved(k(kept.replace("for Braun", "for now Braun and")), k(kept))


def test_truncated_copy_with_and_without_marker() -> None:
    cut = BASE[:110].rsplit(" ", 1)[0]
    assert V.truncated(k(cut + " …"), k(BASE)) is not None
    assert V.truncated(k(cut), k(BASE)) is not None
    kinds = {(m.kept, m.removed, m.rule) for m in V.compare(0, k(BASE), 1, k(cut + "..."))}
    assert (0, 1, TRUNCATED) in kinds


def test_a_whole_sentence_is_not_a_truncated_copy() -> None:
    kept = "Leandra Lou is a different fashion blog, now a book. It talks about everything fashion junkies love."
    assert V.truncated(k("Leandra Lou is a different fashion blog, now a book"), k(kept)) is None
    assert V.truncated(k("Leandra Lou is a different fashion blog, now a book…"), k(kept)) is not None


def test_truncated_copy_must_cover_a_share_of_the_kept_one() -> None:
    assert V.truncated(k(BASE[:30]), k(BASE)) is None


@pytest.mark.parametrize("tail", [
    "Read more: Five scenic rail journeys for the winter",
    "LIRE AUSSI - La vengeance aux yeux clairs : Laëtitia Milot épanouie",
    "Mehr zum Thema: NASA+ Streaming startet >>",
    "Related: Thousands of academics 'treated as second-class citizens'",
])
def test_link_tail_is_recognised(tail: str) -> None:
    assert is_link_tail(k(" " + tail))
    m = V.compare(0, k(BASE), 1, k(BASE + " " + tail))
    assert [(x.kept, x.removed, x.rule) for x in m if x.removed == 1] == [(0, 1, TAIL)]


def test_a_sentence_added_at_the_end_is_not_a_tail() -> None:
    assert not is_link_tail(k(" Update: the club later said the match would be replayed."))
    assert not is_link_tail(k(" " + "word " * 60 + ": more"))
    assert not [m for m in V.compare(0, k(BASE), 1, k(BASE + " The club will appeal.")) if m.removed == 1]


def test_compare_reports_each_direction_once() -> None:
    a, b = k(BASE), k(BASE.replace("Murray", "Muray"))
    found = V.compare(0, a, 1, b)
    assert sorted((m.kept, m.removed, m.rule) for m in found) == [(0, 1, NEAR), (1, 0, NEAR)]


def test_strip_ellipsis_variants() -> None:
    for end in ("...", "…", "[...]", "[…]", "(...)", " …"):
        assert strip_ellipsis("some text" + end) == ("some text", True)
    assert strip_ellipsis("some text.") == ("some text.", False)


def test_threshold_is_validated() -> None:
    with pytest.raises(ValueError):
        Verifier(0.0)


def test_vocab_figures_are_its_words_that_carry_a_figure() -> None:
    texts = ["", "no figures here", "a 12 b x2 c 3d4 e_5 f ² g ٣ h 1,5 i 10h30 j", "r2-d2 and c_3po", "x²y 7"]
    for text in texts:
        vocab = Vocab(text)
        assert vocab.figures == [w for w in vocab.words if is_number(w)] == figures(text)
    assert Vocab("a 12 b x2 c 3d4 e_5").figures == ["12", "x2", "3d4", "e_5"]


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab1٣²_ -,.x\u00e9"), max_size=30))
def test_vocab_figures_are_its_words_that_carry_a_figure_on_any_text(text: str) -> None:
    vocab = Vocab(text)
    assert vocab.figures == [w for w in vocab.words if is_number(w)]


def test_novel_words_stop_at_the_limit_asked() -> None:
    removed, kept = "alpha bravo 12 charlie delta echo", "alpha foxtrot"
    every = novel_words(removed, kept)
    assert every == ["bravo", "12", "charlie", "delta", "echo"]
    for limit in (1, 2, 3):
        assert novel_words(removed, kept, limit=limit) == every[:limit]
    assert novel_words("alpha", kept, limit=1) == []


def test_a_typo_of_a_figure_is_not_a_typo_of_a_word() -> None:
    # the nearest kept word is a figure; a plain word one edit away still counts ...
    assert novel_words("abcd", "abc1 abdd") == []
    # ... but a figure alone never does
    assert novel_words("abcd", "abc1 zzzz") == ["abcd"]
    assert Vocab("abc1 abdd").typo_of("abcd") and not Vocab("abc1 zzzz").typo_of("abcd")


def test_may_match_never_rules_out_a_pair_that_reaches_the_threshold() -> None:
    rng = random.Random(7)
    verifier = Verifier(0.85)
    checked = ruled_out = 0
    for _ in range(3000):
        a = "".join(rng.choice("ab ") for _ in range(rng.randint(0, 60)))
        b = a[: rng.randint(0, len(a))] + "".join(rng.choice("abc") for _ in range(rng.randint(0, 30)))
        reaches = fuzz.ratio(a, b, score_cutoff=85.0) > 0 or (not a and not b)
        if not verifier.may_match(len(a), len(b)):
            ruled_out += 1
            assert not reaches, (a, b)
        checked += reaches
    assert ruled_out > 100 and checked > 100  # both sides of the bound were exercised


@pytest.mark.parametrize("threshold", [0.85, 0.5, 0.9, 0.97, 1.0])
def test_matchable_lengths_are_exactly_the_lengths_may_match_allows(threshold: float) -> None:
    verifier = Verifier(threshold)
    for length in [*range(0, 400), 999, 1000, 2047, 4999]:
        lo, hi = verifier.matchable_lengths(length)
        allowed = [n for n in range(0, 3 * length + 10) if verifier.may_match(length, n)]
        assert (lo, hi) == (allowed[0], allowed[-1]), length
        assert allowed == list(range(lo, hi + 1))  # an interval
