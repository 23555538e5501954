import re

from hypothesis import given
from hypothesis import strategies as st

from dedup.keys import is_number, matching_key, words


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


@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60))
def test_ascii_words_are_the_regex_words(text: str) -> None:
    assert words(text) == re.findall(r"\w+", text)


def test_words_of_every_ascii_character() -> None:
    every = "".join(map(chr, range(128)))
    assert words(every) == re.findall(r"\w+", every)
    assert words(every) == ["0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "_", "abcdefghijklmnopqrstuvwxyz"]
    assert words("it's a_b\x1ftab\tend\x00") == ["it", "s", "a_b", "tab", "end"]


@given(st.text(alphabet=st.characters(blacklist_categories=()), max_size=80))
def test_any_words_are_the_regex_words(text: str) -> None:
    # every character class: letters, marks, digits, punctuation, spaces, surrogates, controls
    assert words(text) == re.findall(r"\w+", text)


def test_words_of_non_ascii_keys_split_at_any_non_word_character() -> None:
    key = "l'équipe «a_b» 12,5 € naïve\u00a0x\u3000y—z\ud800q 東京。大阪 ①②"
    assert words(key) == re.findall(r"\w+", key)
    assert words(key) == ["l", "équipe", "a_b", "12", "5", "naïve", "x", "y", "z", "q", "東京", "大阪", "①②"]
    every = "".join(map(chr, range(0x3000)))  # every character of the first planes, in one key
    assert words(every) == re.findall(r"\w+", every)
