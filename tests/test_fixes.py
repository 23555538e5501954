"""Each text fix on English, French and German, including text it must leave alone."""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable

import pytest
from conftest import run
from hypothesis import given
from hypothesis import strategies as st

from dedup import Document, fixes
from dedup.apply import restore
from dedup.fixes import FIX_RULES, Fixer
from dedup.model import REPLACE
from dedup.pipeline import prepare
from dedup.segment import MAX_PARAGRAPH_CHARS


def fix(text: str, *rules: str, lines: bool = True) -> str:
    (fixed,) = Fixer(rules or FIX_RULES).fix_all([text], [lines])
    return fixed.text


@pytest.mark.parametrize(("before", "after"), [
    ("Je n&#39;ai pas dit &laquo;non&raquo;", "Je n'ai pas dit «non»"),
    ("AT&amp;T and Barnes &amp; Noble", "AT&T and Barnes & Noble"),
    ("Preis:&nbsp;10&nbsp;€", "Preis:\u00a010\u00a0€"),
])
def test_html_entities(before: str, after: str) -> None:
    assert fix(before, "html-entity") == after


@pytest.mark.parametrize("text", [
    "Fish & chips; R&D; a&b",  # no entity
    "&notanentity; &#xZZ;",  # not valid
    "bidi &#x202e;override and &#0; null",  # decodes to a control: left escaped
])
def test_html_entities_left_alone(text: str) -> None:
    assert fix(text, "html-entity") == text


@pytest.mark.parametrize(("before", "after"), [
    ("La dÃ©lÃ©gation a rencontrÃ© le ministre.", "La délégation a rencontré le ministre."),
    ("The mayorâ€™s office said â€œnoâ€\x9d.", "The mayor’s office said “no”."),
    ("Die StraÃŸe ist gesperrt, GrÃ¼ÃŸe aus MÃ¼nchen.", "Die Straße ist gesperrt, Grüße aus München."),
])
def test_mojibake(before: str, after: str) -> None:
    assert fix(before, "mojibake") == after


@given(st.text(alphabet="ab .é\u0301Ãœ©", max_size=600), st.integers(1, 60))
def test_an_over_long_line_is_cut_into_parts_between_two_ascii_characters(line: str, size: int) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(fixes, "LOCAL_EDITS_AFTER", 0)
        mp.setattr(fixes, "PART_CHARS", size)
        parts = fixes._parts(line)
    assert "".join(p for _, p in parts) == line
    assert [at for at, _ in parts] == [sum(len(p) for _, p in parts[:k]) for k in range(len(parts))]
    for at, part in parts[:-1]:  # every cut but the last part's end
        assert 0 < len(part) <= size
        cut = at + len(part)
        assert (line[cut - 1].isascii() and line[cut].isascii()) or len(part) == size
        if len(part) < size:  # a short part: the place was found in its second half
            assert len(part) >= size // 2 + 1
    assert fixes._parts("short") == [(0, "short")]


def test_mojibake_on_an_over_long_line_is_repaired_where_it_is() -> None:
    # One edit from the first spot to the last would cover every piece in between: each piece's
    # key would be the whole replacement (megabytes on a long scraped line).
    body = " ".join(f"Sentence {i} of a long line, about the harbour and its ferry." for i in range(2000))
    line = "Le maire dÃ©clare. " + body + " Le prÃ©fet rÃ©pond."
    assert len(line) > 4 * fixes.LOCAL_EDITS_AFTER
    (fixed,) = Fixer(["mojibake"]).fix_all([line + "\n"], [True])
    assert fixed.text == "Le maire déclare. " + body + " Le préfet répond.\n"
    # one edit per changed part of the line, from its first change to its last
    assert [(line[f.start : f.end], f.new) for f in fixed.fixes] == [("Ã©", "é"), ("Ã©fet rÃ©", "éfet ré")]
    prepared = prepare(Document("a", line + "\n"), Fixer(["mojibake"]))
    assert len(prepared.keys) > 4 and max(len(k) for k in prepared.keys) <= MAX_PARAGRAPH_CHARS


@pytest.mark.parametrize("text", [
    "“Curly quotes” stay, as do ligatures ﬁ and full width ＡＢＣ.",
    "Ça coûte 10\u202f000\u00a0€, à Zürich ou à Köln — sans problème.",
    "Ångström, Øresund, Ð, ð and Þ are real letters.",
    "A line\nbreak and a\u2028line separator stay.",
])
def test_mojibake_leaves_clean_text_alone(text: str) -> None:
    assert fix(text, "mojibake") == text


def test_invisible_characters() -> None:
    assert fix("kräfte\u00adzehrend hoch\u200bgedrillt\u2060", "invisible") == "kräftezehrend hochgedrillt"
    assert fix("\ufeffStart and a \ufeff in the middle", "invisible") == "\ufeffStart and a  in the middle"
    kept = "Family 👨\u200d👩\u200d👧, می\u200cخواهم, « Bonjour » 10\u202f000"
    assert fix(kept, "invisible") == kept


def test_nfc() -> None:
    assert fix("Bu\u0308rgeramt, cafe\u0301, A\u030angstro\u0308m", "nfc") == "Bürgeramt, café, Ångström"
    assert fix("ﬁ ＡＢＣ ①", "nfc") == "ﬁ ＡＢＣ ①"  # compatibility characters are not folded


@given(st.text(alphabet=" \t\r\nab", max_size=60))
def test_inner_runs_are_the_runs_of_spaces_and_tabs_inside_a_line(text: str) -> None:
    # the reference: every maximal run of spaces and tabs that is not a single space, and that
    # neither starts nor ends a line (indentation and trailing spaces are other fixes)
    def inside(m: re.Match[str]) -> bool:
        s, e = m.span()
        return s > 0 and e < len(text) and text[s - 1] not in "\r\n" and text[e] not in "\r\n"

    want = [m.span() for m in re.finditer(r"[ \t]+", text) if m.group() != " " and inside(m)]
    assert list(fixes._inner_runs(text)) == want


def test_text_of_nfc_stable_characters_needs_no_nfc_check() -> None:
    """``nfc`` skips the NFC check for text made only of the table's characters (checked a
    character at a time): valid only if NFC keeps every such text, so every ordered pair of
    them, each pair set apart by a space, must be NFC already. The small table (used where the
    shipped one is for another Unicode version) is checked pair by pair."""
    table = fixes.small_nfc_table()
    stable = [chr(c) for c in range(len(table)) if table[c]]
    assert len(stable) > 800 and "\u00e9" in stable and "\u2019" in stable
    assert "\u2000" not in stable and "\u0301" not in stable and "\u0300" not in stable
    for a in stable:
        assert unicodedata.is_normalized("NFC", " ".join(a + b for b in stable)), hex(ord(a))
    assert fixes._all_in is not None
    assert fixes._all_in("caf\u00e9 \u2019", table) and not fixes._all_in("cafe\u0301", table)
    assert not fixes._all_in("\u2000", table) and not fixes._all_in("\u4e00", table) and fixes._all_in("", table)
    assert fix("caf\u00e9 \u2019a\u2000b", "nfc") == "caf\u00e9 \u2019a\u2002b"  # U+2000 is NFC U+2002


def test_the_shipped_nfc_table_is_this_pythons_unicode() -> None:
    """The table dedup ships is ``nfc_stable_table()`` computed again here (regenerate it with
    ``fixes.write_nfc_table`` when Python's Unicode version moves), and it is the one in use."""
    shipped = fixes.shipped_nfc_table()
    assert shipped is not None, f"no {fixes.NFC_TABLE_FILE} for unicodedata {unicodedata.unidata_version}"
    assert shipped == fixes.nfc_stable_table()
    assert fixes._nfc_stable() == shipped
    small = fixes.small_nfc_table()
    assert all(shipped[c] for c in range(len(small)) if small[c])  # it only adds characters
    # stable: Cyrillic, Greek, CJK, a Hangul syllable, an arrow, Kannada and Oriya letters
    assert all(shipped[ord(c)] for c in "\u0416\u03a9\u4e00\uac00\u2192\u0c95\u0b15")
    # not: combining marks, characters NFC replaces (the ohm sign, U+0F73, U+2000), characters
    # that compose with the one before them (Oriya and Kannada length marks, Hangul vowels and
    # trailing consonants, the Tamil AU length mark), and surrogates
    for c in "\u0301\u0338\u2126\u0f73\u2000\u0b3e\u0cd5\u1161\u11a8\u0bd7\ud800":
        assert not shipped[ord(c)], hex(ord(c))


_TRICKY = ("e\u0301\u0338\u2126\u0f73\u0b3e\u0b47\u0cd5\u0cc6\u1100\u1161\u11a8\uac00\u0bc6\u0bd7"
           "\u0415\u0306\u4e00\u2192\u00e9a \u2019\u03a9\u0391\u0313")


@given(st.text(alphabet=_TRICKY + "".join(chr(c) for c in range(0x3040, 0x30A0)), max_size=12))
def test_a_text_of_stable_characters_is_nfc_and_nfc_finds_nothing_in_it(text: str) -> None:
    table = fixes._nfc_stable()
    if fixes._all_in is not None and fixes._all_in(text, table):
        assert unicodedata.is_normalized("NFC", text)
    if unicodedata.is_normalized("NFC", text):
        assert fix(text, "nfc") == text


def test_a_long_line_of_mojibake_everywhere_gives_edits_no_longer_than_a_part() -> None:
    rnd = random.Random(1)
    words = ["привет", "мир", "город", "река", "дом", "время", "человек", "работа", "слово", "жизнь"]
    text = " ".join(" ".join(rnd.choice(words) for _ in range(12)).capitalize() + "." for _ in range(3000))
    line = text.encode("utf-8").decode("latin-1")  # every Cyrillic letter becomes two characters
    assert len(line) > 10 * fixes.LOCAL_EDITS_AFTER
    (fixed,) = Fixer(["mojibake"]).fix_all([line + "\n"], [True])
    assert fixed.text == text + "\n"
    assert len(fixed.fixes) > 70 and max(f.end - f.start for f in fixed.fixes) <= fixes.PART_CHARS
    prepared = prepare(Document("a", line + "\n"), Fixer(["mojibake"]))
    assert max(len(k) for k in prepared.keys) <= MAX_PARAGRAPH_CHARS


def test_nfc_on_an_over_long_line_is_one_edit_per_changed_part() -> None:
    body = " ".join(f"Sentence {i} about the harbour." for i in range(3000))
    line = "Cafe\u0301 " + body + " Bu\u0308rgeramt und Ko\u0308ln."
    assert len(line) > 4 * fixes.LOCAL_EDITS_AFTER
    (fixed,) = Fixer(["nfc"]).fix_all([line], [True])
    assert fixed.text == "Café " + body + " Bürgeramt und Köln."
    assert [(line[f.start : f.end], f.new) for f in fixed.fixes] == \
        [("e\u0301", "é"), ("u\u0308rgeramt und Ko\u0308", "ürgeramt und Kö")]  # one part: one edit


def test_whitespace() -> None:
    text = "Title  \r\n\r\n\r\n\r\nFirst\t line  with   runs.\r\n    indented line\r\n"
    assert fix(text, "whitespace") == "Title\n\nFirst line with runs.\n    indented line\n"
    assert fix("A\n\nB\n", "whitespace") == "A\n\nB\n"  # one blank line is a paragraph break: kept
    assert fix("Ça\u00a0: oui", "whitespace") == "Ça\u00a0: oui"  # no-break spaces are not spaces here


@pytest.mark.parametrize(("before", "after"), [
    ("aux Etats- Unis mardi", "aux Etats-Unis mardi"),
    ("c'est-à- dire", "c'est-à-dire"),
    ("in Baden- Württemberg", "in Baden-Württemberg"),
    ("l'arrière- pays niçois, dans l'arrière-pays", "l'arrière-pays niçois, dans l'arrière-pays"),
    ("a well- known fact, well-known to all", "a well-known fact, well-known to all"),
])
def test_hyphenation_joins_broken_words_on_evidence(before: str, after: str) -> None:
    assert fix(before, "hyphenation") == after


@pytest.mark.parametrize("text", [
    "check our deals page- we'll update it if we find more",  # a dash without its space
    "al cierre de esta edición- aún se exploraban sus detalles",
    "dijo en una entrevista con Cooperativa- deslizó que es poco factible",
    "l'arrière- pays niçois",  # no evidence that it is one word
    "the RAM- but not the cache",
])
def test_hyphenation_leaves_dashes_without_evidence(text: str) -> None:
    assert fix(text, "hyphenation") == text


@pytest.mark.parametrize("text", [
    "les soins pré- et post-opératoires",
    "des réglages mono- ou bi-processeurs",
    "der Ein- und Ausgang, Vor- oder Nachteile, Ein- bis Zweifamilienhaus",
    "pre- and post-war, first- or second-hand",
    "le trajet Paris - Lyon, de 10- 12 heures",
    "un tiret – comme ceci - et cela",
])
def test_hyphenation_leaves_suspended_hyphens_ranges_and_dashes(text: str) -> None:
    assert fix(text, "hyphenation") == text


def test_hyphenation_uses_the_document_vocabulary_as_evidence() -> None:
    (a, b) = Fixer(["hyphenation"]).fix_all(["La visite en Allema- gne. L'Allemagne a répondu.",
                                             "Une autre visite en Allema- gne."], [True, True])
    assert a.text == "La visite en Allemagne. L'Allemagne a répondu."
    assert "'Allemagne' occurs in the document" in a.fixes[0].note
    assert b.text == "Une autre visite en Allema- gne."  # evidence in another document does not count
    assert fix("Le voyage en Allema- gne.", "hyphenation") == "Le voyage en Allema- gne."  # no evidence


def test_a_hyphen_at_a_line_break_joins_only_inside_a_paragraph_and_with_evidence() -> None:
    text = "Ein Besuch in Deutsch-\nland und der Schweiz.\nDeutschland ist groß."
    assert fix(text, "hyphenation", lines=False) == "Ein Besuch in Deutschland und der Schweiz.\nDeutschland ist groß."
    assert fix(text, "hyphenation", lines=True) == text  # lines are paragraphs: never joined across
    assert fix("Ein well-\nknown case.", "hyphenation", lines=False) == "Ein well-\nknown case."


def test_fixes_are_recorded_and_reversible_through_the_pipeline() -> None:
    text = "La dÃ©lÃ©gation  est aux Etats- Unis.\r\nLe\u00ad retour&nbsp;: mardi.  \r\n"
    result = run({"a": text})
    doc = result.documents[0]
    assert doc.cleaned == "La délégation est aux Etats-Unis.\nLe retour\u00a0: mardi.\n"
    assert {e.op for e in doc.edits} == {REPLACE}
    assert all(e.kept == () and e.score is None and e.cluster is None for e in doc.edits)
    assert restore(doc.cleaned, doc.edits) == text
    assert doc.signals()["fixes"] == {"hyphenation": 1, "html-entity": 1, "invisible": 1,
                                       "mojibake": 1, "whitespace": 4}


def test_fixes_can_be_turned_off() -> None:
    text = "aux Etats- Unis  mardi\n"
    assert run({"a": text}, fixes=()).documents[0].cleaned == text
    assert run({"a": text}, fixes=("whitespace",)).documents[0].cleaned == "aux Etats- Unis mardi\n"
    with pytest.raises(ValueError, match="unknown fix rule"):
        Fixer(["spelling"])


def test_fixes_inside_removed_paragraphs_are_dropped() -> None:
    para = "The council opened a floating library on the old harbour on Saturday afternoon."
    text = f"{para}\n{para.replace('library', 'libr&shy;ary')}  \n"
    doc = run({"a": text}).documents[0]
    assert doc.cleaned == f"{para}\n"
    assert [e.op for e in doc.edits] == ["remove"]


def test_a_mojibake_copy_matches_its_clean_copy() -> None:
    para = "La délégation militaire a rencontré les responsables marocains pendant trois jours."
    broken = para.encode("utf-8").decode("latin-1")
    doc = run({"a": f"{para}\n{broken}\n"}).documents[0]
    assert doc.cleaned == f"{para}\n"


ALPHABET = st.sampled_from([*"ab é\u0301-\u00ad\u200b&;#39\r\n\t", "&amp;", "Ã©", "- ", "  "])


@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_a_fix_changes_nothing_outside_its_own_span(text: str) -> None:
    (fixed,) = Fixer(FIX_RULES).fix_all([text], [True])
    pos, rebuilt = 0, []
    for f in fixed.fixes:
        assert pos <= f.start <= f.end <= len(text)
        rebuilt.append(text[pos : f.start])
        rebuilt.append(f.new)
        pos = f.end
    rebuilt.append(text[pos:])
    assert "".join(rebuilt) == fixed.text


@given(st.lists(ALPHABET, max_size=40).map("".join))
def test_fixing_twice_changes_nothing_more(text: str) -> None:
    once = fix(text)
    assert fix(once) == once


def test_list_dashes_at_line_starts_are_not_broken_words() -> None:
    text = "Termin: 21.02., 19 Uhr\n- Ort: Marktplatz\n- Eintritt: 44,90 €\n"
    assert fix(text, "hyphenation") == text


def _suspect_bytes(text: str) -> bool:
    return fixes._SUSPECT.search(text.encode("utf-8", "surrogatepass")) is not None


def test_the_compiled_mojibake_check_is_the_byte_pattern_for_every_character() -> None:
    assert fixes.suspect is not fixes.python_suspect  # this install has the extension
    for lead in ("Ã", "Â", "ô", "õ", "a"):  # lead bytes read as Latin-1, the ends of the range, and none
        for c in range(0x110000):  # every character after them, lone surrogates included
            text = lead + chr(c)
            assert fixes.suspect(text) is _suspect_bytes(text), (lead, hex(c))
    assert fixes.suspect("CafÃ© crÃ¨me") and fixes.suspect("a\x85b") and not fixes.suspect("Café crème")


@pytest.mark.parametrize("check", [fixes.suspect, fixes.python_suspect], ids=["compiled", "python"])
@given(text=st.text(alphabet=st.sampled_from("aÃÂôõ\x80\x9f\xa0\xbf\xc0€™Œ–\ud800é中 "), max_size=12))
def test_the_mojibake_check_is_the_byte_pattern_on_any_text(check: Callable[[str], bool], text: str) -> None:
    assert check(text) is _suspect_bytes(text)


def _signs_by_regex(text: str) -> int:
    """The whitespace signs by their definitions, a regex each."""
    found = [re.search(r"\t", text), re.search(r"\r", text), re.search(r"  ", text),
             re.search(r"[ \t](?:\n|\r|\Z)", text), re.search(r"\n\n\n|\n[ \t]+\r?\n", text)]
    return sum(bit for bit, m in zip((fixes.TAB, fixes.CR, fixes.DOUBLE_SPACE, fixes.TRAILING, fixes.BLANK_LINES),
                                     found, strict=True) if m)


@pytest.mark.parametrize("signs", [fixes.whitespace_signs, fixes.python_whitespace_signs], ids=["compiled", "python"])
@given(text=st.text(alphabet=st.sampled_from(["a", " ", "\t", "\n", "\r", "\x0b", "\x0c", "é", "\u2019", "🙂"]),
                    max_size=16))
def test_whitespace_signs_are_the_patterns_the_fix_looks_for(signs: Callable[[str], int], text: str) -> None:
    assert signs(text) == _signs_by_regex(text)
    assert signs(text * 2) == _signs_by_regex(text * 2)


def test_whitespace_signs_on_every_width_of_text() -> None:
    assert fixes.whitespace_signs is not fixes.python_whitespace_signs  # this install has the extension
    for wide in ("", "é", "\u2019", "🙂"):  # one, two and four bytes a character
        assert fixes.whitespace_signs(wide + "a\n \r\nb") == fixes.CR | fixes.TRAILING | fixes.BLANK_LINES
        assert fixes.whitespace_signs(wide + "a  b\tc \n") == fixes.DOUBLE_SPACE | fixes.TAB | fixes.TRAILING
        assert fixes.whitespace_signs(wide + "a\n\nb\n\n") == 0 and fixes.whitespace_signs(wide + "a\n\n\nb") == 16
        assert fixes.whitespace_signs(wide + "end ") == fixes.TRAILING
    with pytest.raises(TypeError):
        fixes.whitespace_signs(b"a  b")  # type: ignore[arg-type]
    # a text without any of them is not changed by the whitespace fix, and most text is like that
    assert fix("Un paragraphe ’ordinaire’.\n\nUn autre.\n", "whitespace") == "Un paragraphe ’ordinaire’.\n\nUn autre.\n"
