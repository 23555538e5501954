"""Decide, on the text itself, whether one paragraph may be removed in favour of another.

LSH only proposes candidates. Every candidate is checked here with rapidfuzz on the matching
keys, in one of four ways:

``exact``      the keys are equal;
``near``       normalised Indel similarity (``rapidfuzz.fuzz.ratio``) at or above the threshold;
``truncated``  the removed copy is a prefix of the kept one (cut short, often ending in "…");
``tail``       the removed copy is the kept one plus a short link tail ("Read more: …");
``merged``     the removed copy is two or three consecutive kept paragraphs run together
               (checked in ``plan``, where paragraph neighbours are known).

Every kind also passes the *content guard*: the removed copy may not contain a word the kept copy
lacks (a typo of a kept word, or a word split in two, is not new), and in ``near`` matches both
copies carry the same figures. Match reports from one template, disclaimers that differ in one
number and bylines that differ by date therefore stay, however similar they look.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from dedup.keys import figures, is_number, words

EXACT = "exact"
NEAR = "near"
TRUNCATED = "truncated"
TAIL = "tail"
MERGED = "merged"

_ELLIPSIS = re.compile(r"\s*(?:\.{2,}|…|\[\s*(?:\.{2,}|…)\s*\]|\(\s*(?:\.{2,}|…)\s*\))\s*$")
# A link tail: a label of one to four words, a separator, then a headline that does not end a
# sentence ("Read more: …", "Lire aussi : …", "Mehr zum Thema: …", "Related: …").
_TAIL_LABEL = re.compile(r"^\w[\w']*(?: \w[\w']*){0,3} ?[:|>»-]+ ?\S")
_TAIL_END_TRIM = " \t>»\"')]"
_SENTENCE_END = re.compile(r"\s*[.!?:;]")
_ENDS_SENTENCE = re.compile(r"[.!?][\"')\]]*$")
MAX_TAIL_CHARS = 200
CACHE_SIZE = 4096  # keys whose words and figures a verifier remembers
MIN_TRUNCATED_SHARE = 0.3


@dataclass(frozen=True, slots=True)
class KeyMatch:
    """``removed`` may be dropped in favour of ``kept`` (both are key ids), by ``rule``."""

    kept: int
    removed: int
    rule: str
    score: float


def _typo_budget(token: str) -> int:
    return 1 if len(token) <= 6 else 2


def novel_words(removed: str, kept: str, partial_last: bool = False,
                tokens: Callable[[str], list[str]] = words) -> list[str]:
    """Words of ``removed`` that ``kept`` does not contain.

    Tolerated: a typo of a kept word (one edit, a swap of two neighbouring letters included, for
    words of four to six letters; two beyond; only a swap for three-letter words; never in
    figures), a kept word split in two or two
    kept words run together, and, with ``partial_last``, a last word cut short. Figures must
    match exactly. ``tokens`` splits a text into words (a caching one when a verifier checks
    one key against many).
    """
    removed_words = tokens(removed)
    kept_words = tokens(kept)
    kept_set = set(kept_words)
    joined: set[str] | None = None
    choices: list[str] | None = None
    novel: list[str] = []
    last = len(removed_words) - 1
    for i, w in enumerate(removed_words):
        if w in kept_set:
            continue
        if is_number(w):
            novel.append(w)
            continue
        if i < last and w + removed_words[i + 1] in kept_set:
            continue
        if i > 0 and removed_words[i - 1] + w in kept_set:
            continue
        if joined is None:
            joined = {a + b for a, b in pairwise(kept_words)}
        if w in joined:
            continue
        if partial_last and i == last and any(k.startswith(w) for k in kept_set):
            continue
        if len(w) == 3 and any(_swapped(w, k) for k in kept_set if len(k) == 3):
            continue
        if len(w) >= 4:
            if choices is None:
                choices = [k for k in kept_set if not is_number(k)]
            hit = process.extractOne(w, choices, scorer=OSA.distance, score_cutoff=_typo_budget(w))
            if hit is not None:
                continue
        novel.append(w)
    return novel


def _swapped(a: str, b: str) -> bool:
    """Two neighbouring letters swapped ("teh" for "the"): the one typo short words may carry."""
    return a != b and sorted(a) == sorted(b) and OSA.distance(a, b) == 1


def content_preserved(removed: str, kept: str, tokens: Callable[[str], list[str]] = words,
                      digits: Callable[[str], list[str]] = figures) -> bool:
    """The content guard for near copies: same figures, and no new word but at most one
    inserted word (a one-word edit adds a word; a template fills a slot with another word, which
    this refuses because the word counts then match)."""
    if not same_figures(removed, kept, digits):
        return False
    novel = novel_words(removed, kept, tokens=tokens)
    if not novel:
        return True
    return len(novel) == 1 and len(tokens(removed)) == len(tokens(kept)) + 1


def same_figures(a: str, b: str, digits: Callable[[str], list[str]] = figures) -> bool:
    """True when both texts carry the same figures, counted with multiplicity."""
    fa, fb = digits(a), digits(b)
    return fa == fb or Counter(fa) == Counter(fb)


def strip_ellipsis(key: str) -> tuple[str, bool]:
    """The key without a trailing truncation marker, and whether there was one."""
    cut = max(len(key) - 24, 0)  # markers sit at the very end; do not scan the whole key
    m = _ELLIPSIS.search(key, cut)
    if m is None:
        return key, False
    head = key[: m.start()].rstrip()
    return head, True


def is_link_tail(tail: str) -> bool:
    """A short "Label: headline" tail that does not end a sentence."""
    tail = tail.lstrip(" .!?\"')")
    if not tail or len(tail) > MAX_TAIL_CHARS or not _TAIL_LABEL.match(tail):
        return False
    return not tail.rstrip(_TAIL_END_TRIM).endswith((".", "!", "?", ";", ":"))


class Verifier:
    """Checks candidate pairs of keys; ``threshold`` is the minimum similarity (0..1)."""

    def __init__(self, threshold: float) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        self._cutoff = threshold * 100.0
        # Words and figures of recently compared keys: a key is usually checked against several
        # candidates in a row, both ways. Bounded, and only a cache: results never depend on it.
        self._words: dict[str, list[str]] = {}
        self._figures: dict[str, list[str]] = {}

    def _tokens(self, text: str) -> list[str]:
        found = self._words.get(text)
        if found is None:
            if len(self._words) >= CACHE_SIZE:
                self._words.clear()
            found = self._words[text] = words(text)
        return found

    def _digits(self, text: str) -> list[str]:
        found = self._figures.get(text)
        if found is None:
            if len(self._figures) >= CACHE_SIZE:
                self._figures.clear()
            found = self._figures[text] = figures(text)
        return found

    def _preserved(self, removed: str, kept: str) -> bool:
        return content_preserved(removed, kept, self._tokens, self._digits)

    def compare(self, ida: int, a: str, idb: int, b: str) -> list[KeyMatch]:
        """All the ways one of two distinct keys may be removed in favour of the other: at most
        one match per direction, a near match first, else a truncated copy or a link tail."""
        found: dict[tuple[int, int], KeyMatch] = {}
        score = fuzz.ratio(a, b, score_cutoff=self._cutoff) / 100.0
        if score:
            if self._preserved(b, a):
                found[ida, idb] = KeyMatch(ida, idb, NEAR, score)
            if self._preserved(a, b):
                found[idb, ida] = KeyMatch(idb, ida, NEAR, score)
        if len(a) != len(b):
            short_id, short, long_id, long = (ida, a, idb, b) if len(a) < len(b) else (idb, b, ida, a)
            if (long_id, short_id) not in found:
                m = self.truncated(short, long)
                if m is not None:
                    found[long_id, short_id] = KeyMatch(long_id, short_id, TRUNCATED, m)
            if (short_id, long_id) not in found:
                m = self.tail(short, long)
                if m is not None:
                    found[short_id, long_id] = KeyMatch(short_id, long_id, TAIL, m)
        return list(found.values())

    def near(self, removed: str, kept: str) -> float | None:
        """Similarity when ``removed`` is a near copy of ``kept``, else None."""
        score = fuzz.ratio(removed, kept, score_cutoff=self._cutoff) / 100.0
        if score and self._preserved(removed, kept):
            return score
        return None

    def truncated(self, removed: str, kept: str) -> float | None:
        """Similarity of ``removed`` with the start of ``kept`` when it is a cut-short copy."""
        head, marked = strip_ellipsis(removed)
        if len(head) >= len(kept) or len(head) < MIN_TRUNCATED_SHARE * len(kept):
            return None
        if not marked and (_SENTENCE_END.match(kept, len(head)) or _ENDS_SENTENCE.search(head)):
            return None  # whole sentences said again (a title, a lead), not a cut-short copy
        score = fuzz.ratio(head, kept[: len(head)], score_cutoff=self._cutoff) / 100.0
        if not score or novel_words(head, kept[: len(head) + 16], partial_last=True):
            return None
        return score

    def tail(self, kept: str, removed: str) -> float | None:
        """Similarity when ``removed`` is ``kept`` followed by a link tail."""
        n = len(kept)
        if len(removed) <= n or len(removed) - n > MAX_TAIL_CHARS + 8:
            return None
        if not fuzz.ratio(kept, removed[:n], score_cutoff=self._cutoff):
            return None  # the start of the longer copy must be the shorter one
        # The tail starts at a space near the end of the kept text (typos shift it a little).
        splits = sorted((i for i in range(max(1, n - 12), min(len(removed), n + 13)) if removed[i] == " "),
                        key=lambda i: abs(i - n))
        for pos in splits:
            if not is_link_tail(removed[pos:]):
                continue
            head = removed[:pos]
            score = fuzz.ratio(head, kept) / 100.0
            if score >= self.threshold and not novel_words(head, kept) and same_figures(head, kept):
                return score
        return None
