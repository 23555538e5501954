import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from dedup import compiled
from dedup.keys import figures, is_number, matching_key
from dedup.verify import (
    _ELLIPSIS,
    NEAR,
    TAIL,
    TRUNCATED,
    Verifier,
    Vocab,
    content_preserved,
    ends_sentence,
    is_link_tail,
    novel_words,
    python_content_preserved,
    python_novel_words,
    python_same_figures,
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


_MARKS_AND_CLOSERS = st.text(alphabet=".!?\"')]([… \n\ta", max_size=30)


@given(_MARKS_AND_CLOSERS)
def test_the_quick_tests_give_the_regexes_answers(text: str) -> None:
    # strip_ellipsis looks at the regex only when the key may end with a marker, and
    # ends_sentence replaces a regex search that tried every position of the text
    m = _ELLIPSIS.search(text, max(len(text) - 24, 0))
    assert strip_ellipsis(text) == ((text, False) if m is None else (text[: m.start()].rstrip(), True))
    assert ends_sentence(text) == (re.search(r"[.!?][\"')\]]*$", text) is not None)


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


# -- the compiled content guard -------------------------------------------------------------------

_GUARD_WORDS = ["the", "teh", "hte", "news", "across", "arcoss", "first", "class", "firstclass", "women",
                "men", "12", "3d4", "x2", "\u0663", "1,5", "caf\u00e9", "strasse", "stra\u00dfe",
                "\U0001d400bc", "a", "ab", "ba", "abc", "acb", "bac", "nation", "nations", "notion"]
_GUARD_CHARS = "abcde\u00e912\u0663\u00b2_ -,.x\u00df\u0130\U0001d400"


def _edited(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(0, 4)):
        op, at = rng.randint(0, 3), rng.randrange(len(chars) + 1)
        if op == 0 and chars:
            chars.pop(min(at, len(chars) - 1))
        elif op == 1:
            chars.insert(at, rng.choice(_GUARD_CHARS))
        elif op == 2 and at < len(chars) - 1:
            chars[at], chars[at + 1] = chars[at + 1], chars[at]
        elif op == 3 and chars:
            chars[min(at, len(chars) - 1)] = rng.choice(_GUARD_CHARS)
    return "".join(chars)


def _guard_pairs(count: int) -> list[tuple[str, str]]:
    rng = random.Random(11)
    out = []
    for _ in range(count):
        a = " ".join(rng.choice(_GUARD_WORDS) for _ in range(rng.randint(0, 10)))
        other = " ".join(rng.choice(_GUARD_WORDS) for _ in range(rng.randint(0, 10)))
        b = _edited(rng, a) if rng.random() < 0.8 else other
        out += [(a, b), (b, a)]
    long = "".join(rng.choice("ab") for _ in range(90))  # words longer than the compiled stack rows
    out += [(long[:40] + "c" + long[41:], long), (long + "a", long), (long[1:] + " \ud800 z", long + " \udcff")]
    return out


def test_this_install_guards_content_compiled() -> None:
    assert compiled.available() and V._content_preserved is not None
    assert Verifier(0.85, compiled=False)._content_preserved is None


def test_compiled_content_guard_decides_as_the_python_one() -> None:
    from dedup import _kernels

    both = _kernels.content_preserved_both
    for removed, kept in _guard_pairs(3000):
        for partial_last in (False, True):
            for limit in (None, 1, 2):
                assert novel_words(removed, kept, partial_last, limit) \
                    == python_novel_words(removed, kept, partial_last, limit=limit), (removed, kept)
        assert same_figures(removed, kept) == python_same_figures(removed, kept), (removed, kept)
        assert content_preserved(removed, kept) == python_content_preserved(removed, kept), (removed, kept)
        assert both(removed, kept) == (python_content_preserved(removed, kept),
                                       python_content_preserved(kept, removed)), (removed, kept)


def test_compiled_guard_knows_each_tolerated_edit() -> None:
    assert novel_words("first class seats", "firstclass seats") == []  # split in two
    assert novel_words("firstclass seats", "first class seats") == []  # run together
    assert novel_words("the news was brea", "the news was breaking", partial_last=True) == []
    assert novel_words("the news was brea", "the news was breaking") == ["brea"]
    assert novel_words("hte acb", "the abc") == []  # swaps in three-letter words
    assert novel_words("cab", "abc") == ["cab"]  # not one swap away
    assert novel_words("nation nashun", "notion") == ["nashun"]
    assert novel_words("abcdefgh", "abcdefgh1 zzzz") == ["abcdefgh"]  # one edit from a figure only
    assert novel_words("abcdefgh", "abcdefgh1 abcdxfgh") == []
    assert novel_words("abcdefgi 12", "abcdefgh 13") == ["12"]
    assert same_figures("1 2 2", "2 1 2") and not same_figures("1 2 2", "1 1 2") and same_figures("", "a b")


def test_verifiers_compiled_or_not_find_the_same_matches() -> None:
    fast, slow = Verifier(0.8), Verifier(0.8, compiled=False)
    rng = random.Random(5)
    words = BASE.split()
    for _ in range(400):
        a = " ".join(words[rng.randrange(4) :])
        b = _edited(rng, a) + rng.choice(["", " Read more: Islanders win it late", " ..."])
        b = b[: rng.randint(len(b) // 2, len(b))] if rng.random() < 0.3 else b
        assert fast.compare(0, k(a), 1, k(b)) == slow.compare(0, k(a), 1, k(b)), (a, b)


def test_a_tail_needs_a_separator_after_its_label() -> None:
    kept = k(BASE)
    assert V.tail(kept, kept + " Read more: Islanders win it late") is not None
    assert V.tail(kept, kept + " Read more Islanders win it late") is None
