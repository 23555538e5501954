import re
from array import array
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedup import compiled, keys
from dedup.keys import (
    ALL_MARKS,
    figure_print,
    figures,
    is_number,
    marks_in,
    matching_key,
    python_figure_print,
    python_figures,
    python_matching_key,
    python_words,
    words,
)


def test_key_folds_case_whitespace_quotes_and_dashes() -> None:
    assert matching_key("  “Hello”\u00a0 World — it’s  HERE ") == "\"hello\" world - it's here"


def test_key_unescapes_entities_before_folding() -> None:
    assert matching_key("Je n&#39;ai pas&nbsp;dit &laquo;non&raquo;") == "je n'ai pas dit \"non\""


def test_key_drops_soft_hyphens_and_zero_width_characters() -> None:
    assert matching_key("kräfte\u00adzehrend hoch\u200bge\u2060drillt\ufeff") == "kräftezehrend hochgedrillt"
    assert matching_key("présid&shy;ent") == "président"


def test_key_applies_nfkc() -> None:
    assert matching_key("ﬁnal ２０２４ …") == "final 2024 ..."


def test_key_of_blank_text_is_empty() -> None:
    assert matching_key(" \t\u00a0") == ""


def test_words_and_numbers() -> None:
    assert words("drew 1-1 on sunday; l'équipe") == ["drew", "1", "1", "on", "sunday", "l", "équipe"]
    assert is_number("32nd") and is_number("2024") and not is_number("deux")


def test_words_come_from_the_compiled_tokenizer_when_the_install_has_it() -> None:
    assert compiled.available() and words is not python_words


@pytest.mark.parametrize("split", [words, python_words], ids=["compiled", "python"])
@given(text=st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
def test_ascii_words_are_the_regex_words(split: Callable[[str], list[str]], text: str) -> None:
    assert split(text) == re.findall(r"\w+", text)


@pytest.mark.parametrize("split", [words, python_words], ids=["compiled", "python"])
def test_words_of_every_ascii_character(split: Callable[[str], list[str]]) -> None:
    every = "".join(map(chr, range(128)))
    assert split(every) == re.findall(r"\w+", every)
    assert split(every) == ["0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "_", "abcdefghijklmnopqrstuvwxyz"]
    assert split("it's a_b\x1ftab\tend\x00") == ["it", "s", "a_b", "tab", "end"]


@pytest.mark.parametrize("split", [words, python_words], ids=["compiled", "python"])
@given(text=st.text(alphabet=st.characters(blacklist_categories=()), max_size=80))
def test_any_words_are_the_regex_words(split: Callable[[str], list[str]], text: str) -> None:
    # every character class: letters, marks, digits, punctuation, spaces, surrogates, controls
    assert split(text) == re.findall(r"\w+", text)


@pytest.mark.parametrize("split", [words, python_words], ids=["compiled", "python"])
def test_words_of_non_ascii_keys_split_at_any_non_word_character(split: Callable[[str], list[str]]) -> None:
    key = "l'équipe «a_b» 12,5 € naïve\u00a0x\u3000y—z\ud800q 東京。大阪 ①②"
    assert split(key) == re.findall(r"\w+", key)
    assert split(key) == ["l", "équipe", "a_b", "12", "5", "naïve", "x", "y", "z", "q", "東京", "大阪", "①②"]
    every = "".join(map(chr, range(0x3000)))  # every character of the first planes, in one key
    assert split(every) == re.findall(r"\w+", every)


def test_compiled_words_of_every_code_point_and_of_wide_strings() -> None:
    every = "".join(map(chr, range(0x110000)))  # all planes, lone surrogates included
    assert words(every) == re.findall(r"\w+", every)
    wide = "\U0001d7d8\U0001d7d9 x_\U00010000 Σας\ud800é"  # 4-byte kind: words narrower than the text
    assert words(wide) == re.findall(r"\w+", wide) == ["\U0001d7d8\U0001d7d9", "x_\U00010000", "Σας", "é"]
    assert [type(w) for w in words(wide)] == [str] * 4 and words(wide)[3].isascii() is False
    assert words("abc é")[0].isascii()  # an ASCII word of a wider text is a compact ASCII str
    with pytest.raises(TypeError):
        words(b"bytes")  # type: ignore[arg-type]


def _regex_figures(text: str) -> list[str]:
    return [w for w in re.findall(r"\w+", text) if is_number(w)]


@pytest.mark.parametrize("find", [figures, python_figures], ids=["compiled", "python"])
@given(text=st.text(alphabet=st.characters(blacklist_categories=()), max_size=80))
def test_figures_are_the_words_that_hold_a_decimal_digit(find: Callable[[str], list[str]], text: str) -> None:
    assert find(text) == _regex_figures(text)


@pytest.mark.parametrize("find", [figures, python_figures], ids=["compiled", "python"])
def test_figures_of_every_code_point(find: Callable[[str], list[str]]) -> None:
    every = "".join(map(chr, range(0x110000)))  # every decimal digit of every script, among the rest
    assert find(every) == _regex_figures(every)
    key = "won 3-1 on 12.5.2024, le 2e, x² ①, ٣ and 𝟘_b"  # superscripts and circled digits are not decimal
    assert find(key) == ["3", "1", "12", "5", "2024", "2e", "٣", "𝟘_b"]
    assert figures is not python_figures and figures("no digits here") == []


@pytest.mark.parametrize("prints", [figure_print, python_figure_print], ids=["compiled", "python"])
@given(members=st.lists(st.text(alphabet=st.characters(blacklist_categories=()), max_size=30), min_size=1, max_size=3),
       key=st.text(alphabet="ab1 2.,-_\u00e9\u0663\u00b2x", max_size=30))
def test_a_figure_print_is_the_figures_as_a_multiset(prints: Callable[[str], int], members: list[str],
                                                     key: str) -> None:
    """What the planner's window test relies on: the print of keys joined by spaces is the sum of
    their prints (modulo 2**64), the same figures in any order give the same print, and (here,
    where no 64-bit sum collides) other figures another print."""
    joined = " ".join(members)
    assert prints(joined) == sum(map(prints, members)) % 2**64
    assert prints(" ".join(reversed(members))) == prints(joined)
    same = sorted(figures(key)) == sorted(figures(joined))
    assert (prints(key) == prints(joined)) == same
    assert prints(key) == (figure_print(key) if prints is python_figure_print else python_figure_print(key))


def test_figure_prints_of_every_code_point() -> None:
    every = "".join(map(chr, range(0x110000)))
    assert figure_print(every) == python_figure_print(every) != 0
    assert figure_print("no digits here") == python_figure_print("") == 0
    assert figure_print("12 ab3") == figure_print("ab3, 12") != figure_print("12 ab4") != figure_print("12")
    assert figure_print is not python_figure_print
    with pytest.raises(TypeError):
        figure_print(b"12")  # type: ignore[arg-type]


def test_keys_are_folded_compiled_when_the_install_has_it() -> None:
    assert compiled.available() and keys._fold_key is not None
    assert keys.document_marks("a \u2019 b") == ALL_MARKS  # nothing to scan for


def test_compiled_keys_are_the_python_keys_for_every_character() -> None:
    chars = [chr(c) for c in range(0x110000)]
    for lo in range(0, len(chars), 48):
        block = chars[lo : lo + 48]
        for text in ("".join(block), " ".join(block), f" A{'  '.join(block)}\tZ "):
            assert matching_key(text) == python_matching_key(text), hex(lo)


def _simple_characters() -> list[str]:
    table = array("I")
    table.frombytes(keys._simple_table())
    return [chr(c) for c, v in enumerate(table) if v != keys._NOT_SIMPLE]


def test_simple_characters_have_their_key_beside_every_other() -> None:
    """Latin text has its key in one lookup a character (``_kernels.fold_simple``), which holds
    only if no two simple characters compose under NFKC or change each other's fold: every
    ordered pair, each pair set apart by a space (NFKC composes nothing across one)."""
    simple = _simple_characters()
    assert len(simple) > 600 and "é" in simple and "’" in simple and " " in simple
    assert "ß" not in simple and "́" not in simple and "…" not in simple  # ss, a mark, ...
    table, fold_simple = keys._simple_table(), keys._fold_simple
    assert fold_simple is not None
    for a in simple:
        text = " ".join(a + b for b in simple)
        assert fold_simple(text, table) == python_matching_key(text), hex(ord(a))
    assert fold_simple("café ß", table) is None  # not simple: the general path


@given(pieces=st.lists(st.sampled_from([*_simple_characters(), "\u0301", "\u00df", "\u2026", "&amp;", "\u0130"]),
                      max_size=60))
def test_keys_of_mostly_simple_text_are_the_python_keys(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert matching_key(text) == python_matching_key(text)


@pytest.mark.parametrize("text", [
    "", " ", "\u200b", " \u200b ", "a \u200b b", "a\u200bb", "\u1fef", "A\u1fef\u00e9", "x `y` \u2018z\u2019",
    "&amp;\u2014&nbsp;\u2013 ", "\x1c a \x1f b\x85c\u2028", "STRASSE Stra\u00dfe \u0130", "\ufb01 \uff21\uff22",
    "a\u00ad\n\nb", "\ud800 lone \udfff",
])
def test_compiled_keys_on_edge_cases(text: str) -> None:
    assert matching_key(text) == python_matching_key(text) == python_matching_key(text, marks_in(text))


@given(text=st.text(max_size=80))
def test_compiled_keys_are_the_python_keys_with_the_marks_of_the_document(text: str) -> None:
    assert matching_key(text) == python_matching_key(text, marks_in(text))
