"""Matching keys: the normalised form of a paragraph used to compare it with others.

Keys are never written out; the cleaned text always keeps the original characters. They fold the
differences a scraper introduces without changing meaning: HTML entities left in, soft hyphens and
zero-width characters, curly versus straight quotes, dash variants, runs of whitespace, and case.
"""

from __future__ import annotations

import html
import re
import unicodedata
from array import array
from collections.abc import Callable
from functools import cache

from dedup.compiled import extension

# Characters that carry no visible content and that scrapers leave in or drop at random.
_INVISIBLE = (
    "\u00ad"  # soft hyphen
    "\u200b\u200c\u200d\u200e\u200f"  # zero-width space, non-joiner, joiner, LRM, RLM
    "\u202a\u202b\u202c\u202d\u202e"  # bidi embeddings and overrides
    "\u2060\u2061\u2062\u2063\u2064"  # word joiner, invisible operators
    "\u2066\u2067\u2068\u2069"  # bidi isolates
    "\ufeff"  # byte order mark / zero-width no-break space
)
_SINGLE_QUOTES = "‘’‚‛′`´ʹʻʼ"
_DOUBLE_QUOTES = "“”„‟″«»‹›〝〞＂"
_DASHES = "‐‑‒–—―−﹘﹣－"

_TRANSLATION: dict[int, str | None] = {ord(c): None for c in _INVISIBLE}
_TRANSLATION.update({ord(c): "'" for c in _SINGLE_QUOTES})
_TRANSLATION.update({ord(c): '"' for c in _DOUBLE_QUOTES})
_TRANSLATION.update({ord(c): "-" for c in _DASHES})
# The same mapping as (character, replacement) pairs for the non-ASCII path: a membership test
# per character is a fast scan, and most of them are absent, so this beats ``str.translate``.
Marks = tuple[tuple[str, str], ...]
ALL_MARKS: Marks = tuple((chr(k), v or "") for k, v in _TRANSLATION.items() if chr(k) != "`")
# The same mapping for the compiled pass (``_kernels.fold_key``): a class per code point up to
# the last one folded (1 dropped, 2 to ', 3 to ", 4 to -), "`" included.
_CLASS_OF = {None: 1, "'": 2, '"': 3, "-": 4}
_MARK_CLASSES = bytes(_CLASS_OF[_TRANSLATION[c]] if c in _TRANSLATION else 0 for c in range(max(_TRANSLATION) + 1))
_compiled = extension()
_fold_key: Callable[[str, bytes, bool, bool, bool], str] | None = None if _compiled is None else _compiled.fold_key
_fold_simple: Callable[[str, bytes], str | None] | None = None if _compiled is None else _compiled.fold_simple

# Code points whose key character does not depend on the text around them (see _simple_table):
# ASCII, Latin-1, Latin Extended-A and B, and general punctuation (curly quotes, dashes, spaces).
_SIMPLE_RANGES = ((0x0000, 0x0250), (0x2000, 0x2070))
_NOT_SIMPLE, _SIMPLE_DROP, _SIMPLE_SPACE = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD


@cache
def _simple_table() -> bytes:
    """For each code point up to the last of ``_SIMPLE_RANGES``, four bytes (native order): what
    ``python_matching_key`` makes of it, when that is the same beside ASCII and beside non-ASCII
    text: one character, nothing (dropped), or whitespace; else ``_NOT_SIMPLE``. Combining marks
    are never simple (NFKC may compose them with the character before). A text of simple
    characters then has its key in one compiled pass (``_kernels.fold_simple``), with NFKC and
    casefold reduced to a lookup; the tests check that no two simple characters compose under
    NFKC. Built on first use (about 8 ms) and kept."""
    table = array("I", [_NOT_SIMPLE]) * _SIMPLE_RANGES[-1][1]
    for lo, hi in _SIMPLE_RANGES:
        for code in range(lo, hi):
            c = chr(code)
            if unicodedata.combining(c) or 0xD800 <= code < 0xE000:
                continue
            beside_ascii, beside_other = python_matching_key(f"a{c}a"), python_matching_key(f"é{c}é")
            if beside_ascii == "a a" and beside_other == "é é":
                table[code] = _SIMPLE_SPACE
            elif beside_ascii == "aa" and beside_other == "éé":
                table[code] = _SIMPLE_DROP
            elif len(beside_ascii) == 3 and beside_other == f"é{beside_ascii[1]}é" and beside_ascii[::2] == "aa":
                table[code] = ord(beside_ascii[1])
    return table.tobytes()

_WORD = re.compile(r"\w+")
# Every ASCII character that ``\w`` does not match becomes a space (whitespace and controls too).
_ASCII_NON_WORD_TO_SPACE = bytes(c if c < 128 and (chr(c).isalnum() or c == ord("_")) else ord(" ") for c in range(256))
# The same for the bytes of UTF-8 text, leaving the bytes of non-ASCII characters alone.
_ASCII_NON_WORD_TO_SPACE_KEEP_UTF8 = bytes(c if c >= 128 else _ASCII_NON_WORD_TO_SPACE[c] for c in range(256))
_DIGIT = re.compile(r"\d")
_DIGITS = re.compile(r"\d+")


def matching_key(text: str, marks: Marks = ALL_MARKS) -> str:
    """Return the comparison form of ``text``.

    Steps, in order: unescape HTML entities, drop invisible characters, NFKC, casefold, unify
    quotes and dashes, collapse whitespace. NFKC runs after unescaping so ``&nbsp;`` becomes a
    plain space like a literal no-break space does. ``marks`` may narrow the characters to fold
    to those ``marks_in`` found in the whole document (the key is the same, found faster; the
    compiled pass folds them all in the time a scan for one takes, and ignores it).
    """
    if _fold_key is None or _fold_simple is None:
        return python_matching_key(text, marks)
    if "&" in text:
        text = html.unescape(text)
    if text.isascii():  # the common case: only case and whitespace to fold
        return _fold_key(text, _MARK_CLASSES, True, True, True)
    simple = _fold_simple(text, _simple_table())  # Latin text: one lookup a character
    if simple is not None:
        return simple
    text = _fold_key(text, _MARK_CLASSES, True, False, False)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    text = text.casefold()
    # an all-ASCII text is not folded again, as below (NFKC can make a "`": U+1FEF)
    return _fold_key(text, _MARK_CLASSES, not text.isascii(), False, True)


def python_matching_key(text: str, marks: Marks = ALL_MARKS) -> str:
    """``matching_key`` in Python (without the extension; the tests compare the two)."""
    if "&" in text:
        text = html.unescape(text)
        marks = ALL_MARKS  # an entity may spell any of them
    if text.isascii():
        return " ".join(text.lower().replace("`", "'").split())
    text = _fold_marks(text, marks)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
        marks = ALL_MARKS  # compatibility forms may become any of them
    text = text.casefold()
    if not text.isascii():
        text = _fold_marks(text, marks)
    return " ".join(text.split())


def marks_in(text: str) -> Marks:
    """The foldable characters that occur in ``text``: the only ones the keys of its paragraphs
    can need to fold (one scan of the document per character instead of two of every paragraph).
    Casefolding adds none unless NFKC changes the text too (U+0149, the one character whose
    casefold holds a mark, is not NFKC-normal), and then ``matching_key`` folds them all."""
    if text.isascii():
        return ()
    return tuple((c, r) for c, r in ALL_MARKS if c in text)


def document_marks(text: str) -> Marks:
    """What to pass ``matching_key`` for the paragraphs of ``text``: ``marks_in(text)`` for the
    Python path (its scans then look for fewer characters); nothing to look for compiled."""
    return ALL_MARKS if _fold_key is not None else marks_in(text)


def _fold_marks(text: str, marks: Marks) -> str:
    """Drop invisible characters and unify quotes and dashes (see ``_TRANSLATION``)."""
    for char, replacement in marks:
        if char in text:
            text = text.replace(char, replacement)
    return text.replace("`", "'")


def python_words(key: str) -> list[str]:
    """The word tokens of a key (letters and digits; punctuation is not a word): the runs of
    ``\\w``. An ASCII key is split as bytes, every other character turned into a space first
    (the same words, several times faster than the regex). Any other key has its ASCII non-word
    characters turned into spaces the same way (in UTF-8 they are single bytes, never part of
    another character), and only the pieces left that are not all ``\\w`` (non-ASCII
    punctuation, an underscore) go through the regex."""
    if key.isascii():
        return key.encode("ascii").translate(_ASCII_NON_WORD_TO_SPACE).decode("ascii").split()
    out: list[str] = []
    for piece in key.encode("utf-8", "surrogatepass").translate(_ASCII_NON_WORD_TO_SPACE_KEEP_UTF8) \
            .decode("utf-8", "surrogatepass").split():
        if piece.isalnum():  # \w is exactly isalnum() or "_", one character at a time
            out.append(piece)
        else:
            out.extend(_WORD.findall(piece))
    return out


def python_figures(key: str) -> list[str]:
    """The tokens of a key that carry a digit: each run of digits widened to its whole word
    (a scan for digits, then a few steps per figure: far cheaper than tokenising the key)."""
    out: list[str] = []
    end = 0
    n = len(key)
    for m in _DIGITS.finditer(key):
        if m.start() < end:
            continue
        s, e = m.start(), m.end()
        while s > 0 and (key[s - 1].isalnum() or key[s - 1] == "_"):
            s -= 1
        while e < n and (key[e].isalnum() or key[e] == "_"):
            e += 1
        out.append(key[s:e])
        end = e
    return out


_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_U64 = (1 << 64) - 1


def _mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _U64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _U64
    return z ^ (z >> 31)


def python_figure_print(key: str) -> int:
    """The figures of a key as one number: the sum, modulo 2**64, of a 64-bit hash (FNV-1a over
    the code points, then splitmix64's finaliser) of each figure. A sum ignores order, so keys
    joined by spaces have the sum of their prints: the planner turns down most merged-line
    windows on their prints, without reading or joining a text. The same figures give the same
    print; different ones a different print but for a 2**-64 chance (then the near rule, which
    compares the figures themselves, still says no)."""
    total = 0
    for figure in python_figures(key):
        h = _FNV_OFFSET
        for ch in figure:
            h = ((h ^ ord(ch)) * _FNV_PRIME) & _U64
        total += _mix64(h)
    return total & _U64


# The same words and figures from the compiled tokenizer (dedup/_kernels.c) when this install
# has it: one pass over the characters, objects made only for what is returned (words 1.8x as
# fast on non-ASCII keys, a little on ASCII; figures 4x).
words: Callable[[str], list[str]] = python_words if _compiled is None else _compiled.words
figures: Callable[[str], list[str]] = python_figures if _compiled is None else _compiled.figures
figure_print: Callable[[str], int] = python_figure_print if _compiled is None else _compiled.figure_print


def is_number(token: str) -> bool:
    """True for tokens that carry a figure: a score, a date, a price, a model number."""
    return not token.isalpha() and _DIGIT.search(token) is not None
