"""Scraped-text fixes, each a recorded, reversible edit.

Every rule is conservative and safe for text in any language; each can be turned off by name.

``html-entity``  ``&amp;``, ``&#39;``, ``&eacute;`` left in by the scraper -> the character
                 (never into a control or bidi character, which stays escaped).
``mojibake``     UTF-8 read as Latin-1/cp1252 (``Ã©`` -> ``é``, ``â€™`` -> ``’``), repaired by
                 ftfy, run only on lines a cheap check finds suspicious, with every other ftfy
                 change (quotes, ligatures, width, line breaks, normalisation) turned off.
``invisible``    soft hyphens, zero-width spaces, word joiners and a byte-order mark that is not
                 at the start are removed. Zero-width joiners and non-joiners (emoji, Persian,
                 Indic scripts) and no-break / narrow no-break spaces (French typography before
                 ``: ; ! ? »``, after ``«``, in ``10 000``) are kept.
``nfc``          Unicode NFC (canonical composition only; no compatibility folding).
``whitespace``   CRLF -> LF; runs of spaces and tabs inside a line -> one space; trailing spaces
                 and tabs removed; three or more newlines -> one blank line. Indentation and the
                 paragraph layout are kept.
``hyphenation``  a word broken by a hyphen and a space is joined on evidence only, because on
                 real pages "word- word" is as often a dash typed without its space ("the page-
                 we'll update it", "esta edición- aún"): the joined form occurs in the document
                 (``Allema- gne`` -> ``Allemagne`` when ``Allemagne`` appears; ``arrière- pays`` ->
                 ``arrière-pays`` when ``arrière-pays`` appears: the edit says so); the break
                 continues a hyphenated compound (``c'est-à- dire``); or both parts are
                 capitalised (``Etats- Unis``). Suspended hyphens (``pré- et post-opératoire``,
                 ``Ein- und Ausgang``), ranges (``10- 12``) and dashes between spaces
                 (``Paris - Lyon``) are left alone. A hyphen at a line break inside a paragraph is
                 joined only on vocabulary evidence.
"""

from __future__ import annotations

import html
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from html.entities import html5
from importlib import resources

from dedup.compiled import extension
from dedup.compose import Composer, StageEdit

HTML_ENTITY = "html-entity"
MOJIBAKE = "mojibake"
INVISIBLE = "invisible"
NFC = "nfc"
WHITESPACE = "whitespace"
HYPHENATION = "hyphenation"
FIX_RULES = (HTML_ENTITY, MOJIBAKE, INVISIBLE, NFC, WHITESPACE, HYPHENATION)

_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
# Characters an unescaped entity may not turn into: controls and bidi overrides stay escaped.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ufffd]")
# The cheap check, on UTF-8 bytes (a literal first byte makes the scan fast): a UTF-8 lead byte
# read as Latin-1 (Â..ô, encoded C3 82..C3 B4) followed by a continuation byte read as Latin-1 or
# cp1252 (C1 controls and U+00A0-U+00BF: C2 xx; cp1252's Œ œ Š š Ÿ Ž ž ƒ ˆ ˜ – — ‘ ’ ‚ “ ” „ † ‡ •
# … ‰ ‹ › € ™), or a stray C1 control.
_SUSPECT = re.compile(
    rb"\xc3[\x82-\xb4](?:\xc2[\x80-\xbf]|\xc5[\x92\x93\xa0\xa1\xb8\xbd\xbe]|\xc6\x92|\xcb[\x86\x9c]"
    rb"|\xe2\x80[\x93\x94\x98-\x9e\xa0-\xa2\xa6\xb0\xb9\xba]|\xe2\x82\xac|\xe2\x84\xa2)|\xc2[\x80-\x9f]"
)


def python_suspect(text: str) -> bool:
    """Whether ``text`` may hold mojibake (``_SUSPECT`` on its UTF-8 bytes)."""
    return _SUSPECT.search(text.encode("utf-8", "surrogatepass")) is not None


# The same test on the characters, compiled (dedup/_kernels.c) when this install has it: one pass,
# no UTF-8 copy of the text (0.4 s of a profiled 52 MB run of accented text).
_compiled = extension()
suspect: Callable[[str], bool] = python_suspect if _compiled is None else _compiled.suspect
_all_in: Callable[[str, bytes], bool] | None = None if _compiled is None else _compiled.all_in

# What whitespace_signs reports, a bit each: a tab, a carriage return, two spaces in a row, a space
# or tab that ends a line (or the text), and blank lines (three line feeds in a row, or a line of
# spaces or tabs only).
TAB, CR, DOUBLE_SPACE, TRAILING, BLANK_LINES = 1, 2, 4, 8, 16


def python_whitespace_signs(text: str) -> int:
    """The whitespace patterns ``text`` holds (the bits above), one substring test each."""
    signs = (TAB if "\t" in text else 0) | (CR if "\r" in text else 0) | (DOUBLE_SPACE if "  " in text else 0)
    if text.endswith((" ", "\t")) or any(p in text for p in (" \n", "\t\n", " \r", "\t\r")):
        signs |= TRAILING
    if "\n\n\n" in text or _SPACED_BLANK.search(text) is not None:
        signs |= BLANK_LINES
    return signs


# The same in one compiled pass (dedup/_kernels.c): the tests above took a pass each, slow ones on
# text with a character beyond Latin-1, and were the largest part of fixing a document.
whitespace_signs: Callable[[str], int] = python_whitespace_signs if _compiled is None else _compiled.whitespace_signs
# Code points NFC leaves alone wherever they stand, when they are all a text holds: Latin up to
# the combining marks (U+0300) and general punctuation (curly quotes, dashes), but for the few
# that NFC maps elsewhere (U+2000, U+2001); the tests check every pair of them. The fallback table,
# where the shipped one (below) was made for another Unicode version than this Python's.
_NFC_STABLE_RANGES = ((0x0000, 0x0300), (0x2000, 0x2070))
# The table of the whole Basic Multilingual Plane (``nfc_stable_table``), shipped with dedup: a line
# naming the Unicode version it was computed from, then the table, zlib-compressed.
NFC_TABLE_FILE = "nfc_stable.bin"
# Hangul vowels and trailing consonants: they compose with the syllable or consonant before them
# (algorithmically, so no decomposition names them)
_HANGUL_SECONDS = (*range(0x1161, 0x1176), *range(0x11A8, 0x11C3))


@cache
def _nfc_stable() -> bytes:
    """A byte per code point: 1 where NFC keeps the character wherever it stands (see
    ``nfc_stable_table``). The shipped table when it was made from this Python's Unicode version,
    else a small one."""
    return shipped_nfc_table() or small_nfc_table()


def shipped_nfc_table() -> bytes | None:
    """``NFC_TABLE_FILE``'s table, when it was made from this Python's Unicode version."""
    try:
        raw = resources.files("dedup").joinpath(NFC_TABLE_FILE).read_bytes()
        version, _, packed = raw.partition(b"\n")
        if version.decode("ascii") == f"unicodedata {unicodedata.unidata_version}":
            return zlib.decompress(packed)
    except (OSError, ValueError, zlib.error):
        pass
    return None


def small_nfc_table() -> bytes:
    """The stable characters of ``_NFC_STABLE_RANGES`` (built in about 1 ms)."""
    table = bytearray(_NFC_STABLE_RANGES[-1][1])
    for lo, hi in _NFC_STABLE_RANGES:
        for code in range(lo, hi):
            c = chr(code)
            table[code] = not unicodedata.combining(c) and unicodedata.is_normalized("NFC", c)
    return bytes(table)


def nfc_stable_table(limit: int = 0x10000) -> bytes:
    """A byte per code point below ``limit``: 1 for the characters Unicode says NFC keeps as
    they are, wherever they stand (NFC_Quick_Check=Yes and combining class 0): a text made only
    of them is in NFC (UAX #15's quick check answers yes), so ``nfc`` needs no other test for
    it. Quick_Check=No is a character NFC changes on its own; Maybe is one that composes with the
    character before it: the second of a two-character canonical decomposition, or a Hangul vowel
    or trailing consonant. Computed from this Python's ``unicodedata`` (about a second: dedup
    ships the result, ``NFC_TABLE_FILE``, and a test computes it again)."""
    seconds = set(_HANGUL_SECONDS)
    for code in range(0x110000):
        parts = unicodedata.decomposition(chr(code)).split()
        if len(parts) == 2 and not parts[0].startswith("<"):
            seconds.add(int(parts[1], 16))
    table = bytearray(limit)
    for code in range(limit):
        if code in seconds or 0xD800 <= code < 0xE000:  # (a lone surrogate is never a stable text)
            continue
        c = chr(code)
        table[code] = not unicodedata.combining(c) and unicodedata.normalize("NFC", c) == c
    return bytes(table)


def write_nfc_table(path: str) -> None:
    """Write ``nfc_stable_table()`` for this Python's Unicode version as ``NFC_TABLE_FILE`` does."""
    header = f"unicodedata {unicodedata.unidata_version}\n".encode("ascii")
    with open(path, "wb") as fh:
        fh.write(header + zlib.compress(nfc_stable_table(), 9))


@cache
def _ftfy() -> tuple[Callable[[str], bool], Callable[[str], str]]:
    """ftfy's badness test and its encoding repair with dedup's settings, imported when a line
    first looks suspect: most runs meet no mojibake, and importing ftfy (and wcwidth) costs
    about 50 ms, a tenth of the command's start."""
    import ftfy
    from ftfy.badness import is_bad

    config = ftfy.TextFixerConfig(
        unescape_html=False, remove_terminal_escapes=False, fix_encoding=True, restore_byte_a0=True,
        replace_lossy_sequences=True, decode_inconsistent_utf8=True, fix_c1_controls=True,
        fix_latin_ligatures=False, fix_character_width=False, uncurl_quotes=False, fix_line_breaks=False,
        fix_surrogates=True, remove_control_chars=False, normalization=None, explain=False,
    )
    return is_bad, lambda text: ftfy.fix_text(text, config)


_INVISIBLE_CHARS = "\u00ad\u200b\u2060\ufeff"
_INVISIBLE = re.compile(f"[{_INVISIBLE_CHARS}]+")
_LINE = re.compile(r"[^\r\n]*")
_TRAILING = re.compile(r"[ \t]+(?=\r?\n|\r|$)")
_SPACE_OR_TAB = frozenset(" \t")
_LINE_BREAK = frozenset("\r\n")
_SPACED_BLANK = re.compile(r"\n[ \t]+\r?\n")
_BLANK_RUN = re.compile(r"(?:(?<=\n)|^)((?:[ \t]*\r?\n){2,})(?=[ \t]*\S|[ \t]*$)")
_LETTERS = r"[^\W\d_]+"
# A hyphen, a gap (spaces, or one line break), and a word; the word before the hyphen is found
# by looking back. Anchoring on the hyphen keeps the scan fast; the lookahead lets "a- b- c"
# yield both breaks in one pass.
_BROKEN = re.compile(rf"-(?:([ \t]+)|([ \t]*\r?\n[ \t]*))(?=({_LETTERS}))")
_WORD_BEFORE = re.compile(rf"(?<!\w)({_LETTERS})\Z")
# Words after which a hyphen is a suspended hyphen ("pré- et post-", "Ein- und Ausgang").
SUSPENDING_WORDS = frozenset({
    "and", "or", "nor", "to", "versus", "vs",  # en
    "et", "ou", "à", "au", "aux",  # fr
    "und", "oder", "bis", "sowie", "als",  # de
    "y", "o", "e", "u", "ed", "od", "a",  # es, it, pt
    "en", "of", "tot",  # nl
})
# A hyphen next to one of these frequent words is a dash typed without its space ("RAM- but the
# cache", "before- the"), not a broken compound: left alone.
FUNCTION_WORDS = frozenset({
    "the", "a", "an", "in", "on", "at", "of", "for", "with", "by", "but", "is", "are", "was", "it", "that",
    "this", "which", "from", "as", "be", "not",
    "le", "la", "les", "l", "un", "une", "des", "du", "de", "d", "est", "qui", "que", "pour", "dans", "par",
    "sur", "avec", "mais", "ne", "pas", "il", "elle",
    "der", "die", "das", "den", "dem", "ein", "eine", "einen", "mit", "ist", "im", "zu", "von", "auf",
    "für", "nicht", "es", "sie", "er",
    "el", "los", "las", "del", "con", "por", "para", "una", "lo", "di", "che", "per",
    "da", "do", "em", "um", "uma", "het", "een", "van", "met",
})

@dataclass(frozen=True, slots=True)
class Fix:
    """A fix on the input: ``original[start:end]`` becomes ``new``, by ``rules``, because ``note``."""

    start: int
    end: int
    new: str
    rules: tuple[str, ...]
    note: str


@dataclass(frozen=True, slots=True)
class Fixed:
    """A document after the fixes: its text, the fixes, and a position map for paragraph spans."""

    text: str
    fixes: tuple[Fix, ...]
    composer: Composer

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The fixed-text span of the input span ``[start, end)`` (a paragraph's content)."""
        return self.composer.to_output(start), self.composer.to_output(end, end=True)


def _trimmed(start: int, old: str, new: str, rule: str, note: str) -> StageEdit | None:
    """One edit covering only the part of ``old`` that ``new`` changes."""
    if old == new:
        return None
    p = 0
    limit = min(len(old), len(new))
    while p < limit and old[p] == new[p]:
        p += 1
    s = 0
    while s < limit - p and old[len(old) - 1 - s] == new[len(new) - 1 - s]:
        s += 1
    return StageEdit(start + p, start + len(old) - s, new[p : len(new) - s], rule, note)


# A line longer than this is repaired a part at a time (``_parts``): one edit from a line's
# first change to its last would give every piece of an over-long line (``dedup.segment`` matches
# lines over MAX_PARAGRAPH_CHARS = 20,000 characters as pieces) between them the whole
# replacement as its text: a 53 MB scraped line with mojibake at two ends made keys of megabytes,
# piece after piece, and a character-at-a-time NFC pass took seconds a line.
LOCAL_EDITS_AFTER = 20_000
PART_CHARS = 5_000  # about how long those parts are
_ASCII_PAIR = re.compile(r"[\x00-\x7f]{2}")


def _parts(line: str) -> list[tuple[int, str]]:
    """``line`` (when longer than ``LOCAL_EDITS_AFTER``) as ``(offset, part)`` parts of at most
    ``PART_CHARS`` characters, each cut between two ASCII characters in its second half when
    there are two there: a mojibake sequence is non-ASCII characters (and a space standing for
    a lost 0xA0 byte after one), and NFC composes nothing across two ASCII characters, so both
    repairs give the same text part by part. A part without such a place is cut at its end."""
    if len(line) <= LOCAL_EDITS_AFTER:
        return [(0, line)]
    out: list[tuple[int, str]] = []
    lo, n = 0, len(line)
    while lo < n:
        hi = min(n, lo + PART_CHARS)
        if hi < n:
            m = _ASCII_PAIR.search(line, lo + PART_CHARS // 2, hi)
            if m is not None:
                hi = m.start() + 1
        out.append((lo, line[lo:hi]))
        lo = hi
    return out


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for m in _LINE.finditer(text):
        if m.group():
            yield m.start(), m.group()


def html_entities(text: str) -> list[StageEdit]:
    out: list[StageEdit] = []
    if "&" not in text:
        return out
    for m in _ENTITY.finditer(text):
        if m.group()[1] != "#" and m.group()[1:] not in html5:
            continue  # not a known name (html.unescape would also read "&notin" out of "&notanentity;")
        char = html.unescape(m.group())
        if char != m.group() and not _UNSAFE.search(char):
            out.append(StageEdit(m.start(), m.end(), char, HTML_ENTITY, "HTML entity left in the text"))
    return out


def mojibake(text: str) -> list[StageEdit]:
    out: list[StageEdit] = []
    if text.isascii() or not suspect(text):
        return out
    for start, line in _lines(text):
        for at, part in _parts(line):
            if not suspect(part):
                continue
            is_bad, fix_encoding = _ftfy()
            if not is_bad(part):
                continue
            edit = _trimmed(start + at, part, fix_encoding(part), MOJIBAKE, "mojibake repaired (ftfy)")
            if edit is not None:
                out.append(edit)
    return out


def invisible(text: str) -> list[StageEdit]:
    out: list[StageEdit] = []
    if text.isascii() or not any(c in text for c in _INVISIBLE_CHARS):
        return out
    for m in _INVISIBLE.finditer(text):
        start = 1 if m.start() == 0 and text[0] == "\ufeff" else m.start()  # a leading BOM stays
        if start < m.end():
            out.append(StageEdit(start, m.end(), "", INVISIBLE, "invisible character"))
    return out


def nfc(text: str) -> list[StageEdit]:
    """One edit per composed character (a base letter and its combining marks), so the record
    shows ``e`` + U+0301 -> ``é`` rather than a whole rewritten line; on an over-long line, one
    per changed part (``_parts``)."""
    out: list[StageEdit] = []
    if text.isascii() or (_all_in is not None and _all_in(text, _nfc_stable())):
        return out  # (the usual case: checked a character at a time, without the NFC tables)
    if unicodedata.is_normalized("NFC", text):
        return out
    for start, line in _lines(text):
        if len(line) > LOCAL_EDITS_AFTER:  # a character at a time would take seconds a line
            for at, part in _parts(line):
                edit = _trimmed(start + at, part, unicodedata.normalize("NFC", part), NFC, "Unicode NFC")
                if edit is not None:
                    out.append(edit)
            continue
        want = unicodedata.normalize("NFC", line)
        if want == line:
            continue
        edits = _clusters(start, line)
        rebuilt = line
        for e in reversed(edits):
            rebuilt = rebuilt[: e.start - start] + e.new + rebuilt[e.end - start :]
        if rebuilt == want:
            out.extend(edits)
        else:  # compositions across clusters (Hangul jamo, say): one edit for the changed part
            edit = _trimmed(start, line, want, NFC, "Unicode NFC")
            if edit is not None:
                out.append(edit)
    return out


def _clusters(start: int, line: str) -> list[StageEdit]:
    """Edits that NFC-normalise each base character with the combining marks after it."""
    out: list[StageEdit] = []
    i, n = 0, len(line)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(line[j]):
            j += 1
        if j - i > 1 or not unicodedata.is_normalized("NFC", line[i]):
            part = line[i:j]
            fixed = unicodedata.normalize("NFC", part)
            if fixed != part:
                out.append(StageEdit(start + i, start + j, fixed, NFC, "Unicode NFC"))
        i = j
    return out


def whitespace(text: str) -> list[StageEdit]:
    out: list[StageEdit] = []
    gone: list[tuple[int, int]] = []
    # The patterns first, in one pass (``whitespace_signs``): most text has none of them, and
    # the regexes are slow. Each search below runs only when its pattern is there.
    signs = whitespace_signs(text)
    if not signs:
        return out
    returns = bool(signs & CR)
    blank_runs = bool(signs & BLANK_LINES) or (returns and "\n\r\n\r\n" in text)
    for m in _BLANK_RUN.finditer(text) if blank_runs else ():
        run = m.group(1)
        first = run.index("\n") + 1  # keep the first blank line, drop the rest
        if first < len(run):
            gone.append((m.start(1) + first, m.end(1)))
            out.append(StageEdit(m.start(1) + first, m.end(1), "", WHITESPACE, "extra blank lines"))

    def inside_gone(pos: int) -> bool:
        return any(a <= pos < b for a, b in gone)

    for m in _TRAILING.finditer(text) if signs & TRAILING else ():
        if not inside_gone(m.start()):
            out.append(StageEdit(m.start(), m.end(), "", WHITESPACE, "trailing spaces"))
    if signs & (DOUBLE_SPACE | TAB):
        out.extend(StageEdit(s, e, " ", WHITESPACE, "run of spaces or tabs") for s, e in _inner_runs(text))
    if returns and "\r\n" in text:
        out.extend(StageEdit(m.start(), m.start() + 1, "", WHITESPACE, "CRLF line break")
                   for m in re.finditer("\r\n", text) if not inside_gone(m.start()))
    return out


def _inner_runs(text: str) -> Iterator[tuple[int, int]]:
    """Spans of two or more spaces/tabs, or of a tab, between two characters of one line
    (indentation and trailing spaces are not inner runs). A find loop: most text has none, and
    a regex would try every single space."""
    n = len(text)
    # the next double space and the next tab at or after the scan position, each searched for
    # again only once the scan has passed it (a search from every run to a far tab, or to the end
    # when there is none, made the loop quadratic in the runs of a document)
    a, b = text.find("  "), text.find("\t")
    while a >= 0 or b >= 0:
        p = a if b < 0 or 0 <= a < b else b
        s = p
        while s > 0 and text[s - 1] in _SPACE_OR_TAB:
            s -= 1
        e = p
        while e < n and text[e] in _SPACE_OR_TAB:
            e += 1
        if 0 <= a < e:
            a = text.find("  ", e)
        if 0 <= b < e:
            b = text.find("\t", e)
        if s == 0 or e == n or text[s - 1] in _LINE_BREAK or text[e] in _LINE_BREAK:
            continue
        if text[s:e] != " ":
            yield s, e


@dataclass(frozen=True, slots=True)
class Break:
    """A candidate broken word: ``first-`` + gap + ``second`` at ``[hyphen, second_start)``."""

    hyphen: int
    second_start: int
    first: str
    second: str
    newline: bool
    chained: bool  # the first word is itself the end of a hyphenated compound ("c'est-à- dire")


def broken_words(text: str, lines_are_paragraphs: bool) -> list[Break]:
    """Hyphen-plus-gap candidates, suspended hyphens excluded. A hyphen before a line break
    counts only inside a paragraph, never between two one-line paragraphs."""
    out: list[Break] = []
    if "-" not in text:
        return out
    for m in _BROKEN.finditer(text):
        newline, second = m.group(2), m.group(3)
        folded = second.casefold()
        if folded in SUSPENDING_WORDS or folded in FUNCTION_WORDS or (newline is not None and lines_are_paragraphs):
            continue
        before = _WORD_BEFORE.search(text, max(0, m.start() - 64), m.start())
        if before is None:
            continue
        chained = before.start(1) > 0 and text[before.start(1) - 1] == "-"
        if before.group(1).casefold() in FUNCTION_WORDS and not chained:
            continue
        out.append(Break(m.start(), m.start(3), before.group(1), second, newline is not None, chained))
    return out


def hyphenation(text: str, breaks: Iterable[Break], vocabulary: frozenset[str]) -> list[StageEdit]:
    """Join a break only on evidence; a hyphen followed by a space is a dash just as often
    ("the page- we'll update it", "esta edición- aún"), which is left alone."""
    out: list[StageEdit] = []
    for b in breaks:
        joined, hyphenated = b.first + b.second, f"{b.first}-{b.second}"
        if joined.lower() in vocabulary:
            out.append(StageEdit(b.hyphen, b.second_start, "", HYPHENATION,
                                 f"broken word joined: '{joined}' occurs in the document"))
        elif hyphenated.lower() in vocabulary:
            out.append(StageEdit(b.hyphen + 1, b.second_start, "", HYPHENATION,
                                 f"hyphenated word joined: '{hyphenated}' occurs in the document"))
        elif b.newline:
            continue
        elif b.chained:
            out.append(StageEdit(b.hyphen + 1, b.second_start, "", HYPHENATION,
                                 "hyphenated compound broken by a space"))
        elif b.first[0].isupper() and b.second[0].isupper() and len(b.first) > 1:
            out.append(StageEdit(b.hyphen + 1, b.second_start, "", HYPHENATION,
                                 "hyphenated name broken by a space"))
    return out


Stage = Callable[[str], list[StageEdit]]
MAX_ROUNDS = 4
_STAGES: tuple[tuple[str, Stage], ...] = (
    (HTML_ENTITY, html_entities),
    (MOJIBAKE, mojibake),
    (INVISIBLE, invisible),
    (NFC, nfc),
    (WHITESPACE, whitespace),
)


class Fixer:
    """Runs the enabled fix rules over documents; hyphenation consults the words of all of them."""

    def __init__(self, rules: Iterable[str]) -> None:
        self.rules = frozenset(rules)
        unknown = self.rules - set(FIX_RULES)
        if unknown:
            raise ValueError(f"unknown fix rule(s): {', '.join(sorted(unknown))}; known: {', '.join(FIX_RULES)}")

    @staticmethod
    def unchanged(text: str) -> Fixed:
        return _fixed(Composer(text))

    def fix_all(self, texts: list[str], lines_are_paragraphs: list[bool]) -> list[Fixed]:
        return [self.fix(text, lp) for text, lp in zip(texts, lines_are_paragraphs, strict=True)]

    def fix(self, text: str, lines_are_paragraphs: bool) -> Fixed:
        """Every enabled fix on one document. Each document is fixed on its own (hyphenation
        looks for evidence in the document itself), so results never depend on which other
        documents share a batch or a worker process."""
        c = Composer(text)
        # Until nothing changes: one fix can reveal another (a soft hyphen inside mojibake
        # hides it from ftfy until it is removed). Converges in one or two rounds.
        for _ in range(MAX_ROUNDS):
            changed = False
            for rule, stage in _STAGES:
                if rule in self.rules:
                    edits = stage(c.current)
                    if edits:
                        c.apply(edits)
                        changed = True
            if not changed:
                break
        if HYPHENATION in self.rules:
            found = broken_words(c.current, lines_are_paragraphs)
            if found:
                c.apply(hyphenation(c.current, found, _evidence([c.current], [found])))
        return _fixed(c)


def _evidence(texts: Iterable[str], breaks: list[list[Break]]) -> frozenset[str]:
    """The joined forms of candidate breaks (without and with the hyphen) that occur as whole
    words in the input, lower-cased. One substring search per wanted word over large lower-cased
    chunks of the input is far faster than tokenising it."""
    wanted: set[str] = set()
    for found in breaks:
        for b in found:
            wanted.add((b.first + b.second).lower())
            wanted.add(f"{b.first}-{b.second}".lower())
    seen: set[str] = set()
    if not wanted:
        return frozenset()
    for chunk in _chunks(texts, 1 << 26):
        lowered = chunk.lower()
        for w in wanted - seen:
            if w in lowered and _whole_word(lowered, w):
                seen.add(w)
    return frozenset(seen)


def _whole_word(text: str, word: str) -> bool:
    """``word`` occurs in ``text`` not inside a longer word. The pattern starts with the literal
    word (fast to scan for); the character before is checked by hand."""
    for m in re.finditer(rf"{re.escape(word)}(?![\w-])", text):
        if m.start() == 0 or not (text[m.start() - 1].isalnum() or text[m.start() - 1] in "-_"):
            return True
    return False


def _chunks(texts: Iterable[str], size: int) -> Iterator[str]:
    """The texts joined into pieces of about ``size`` characters (never splitting a text)."""
    buf: list[str] = []
    n = 0
    for t in texts:
        buf.append(t)
        n += len(t)
        if n >= size:
            yield "\n".join(buf)
            buf, n = [], 0
    if buf:
        yield "\n".join(buf)


def _fixed(c: Composer) -> Fixed:
    fixes = tuple(
        Fix(r.in_start, r.in_end, c.current[r.out_start : r.out_end], r.rules, "; ".join(r.notes))
        for r in c.regions
    )
    return Fixed(c.current, fixes, c)
