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

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from dedup.compiled import extension
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
_MARKER_ENDS = frozenset("…])")  # the last character of every truncation marker but ".."
_CLOSERS = "\"')]"
_SENTENCE_MARKS = frozenset(".!?")
MAX_TAIL_CHARS = 200
CACHE_SIZE = 1024  # keys whose words a verifier remembers (a key's Vocab: 10-20 KB)
MIN_TRUNCATED_SHARE = 0.3
_compiled = extension()
# the content guard compiled (dedup/_kernels.c), None without the extension
_compiled_novel: Callable[[str, str, bool, int], list[str]] | None = (
    None if _compiled is None else _compiled.novel_words)
_compiled_preserved: Callable[[str, str], bool] | None = None if _compiled is None else _compiled.content_preserved
_compiled_same_figures: Callable[[str, str], bool] | None = None if _compiled is None else _compiled.same_figures
_compiled_preserved_both: Callable[[str, str], tuple[bool, bool]] | None = (
    None if _compiled is None else _compiled.content_preserved_both)
# A link tail holds one of these after its label (``_TAIL_LABEL``): without one, no tail
_TAIL_SEPARATOR = re.compile(r"[:|>»-]")


@dataclass(frozen=True, slots=True)
class KeyMatch:
    """``removed`` may be dropped in favour of ``kept`` (both are key ids), by ``rule``."""

    kept: int
    removed: int
    rule: str
    score: float


def _typo_budget(token: str) -> int:
    return 1 if len(token) <= 6 else 2


class Vocab:
    """The words of one key, with what ``novel_words`` derives from them when it is the kept
    side: built once per key and reused while a verifier checks it against its candidates."""

    __slots__ = ("_choices", "_figures", "_joined", "_key", "set", "words")

    def __init__(self, key: str) -> None:
        self._key = key
        self.words = words(key)
        self.set = frozenset(self.words)
        self._joined: frozenset[str] | None = None
        self._choices: list[str] | None = None
        self._figures: list[str] | None = None

    @property
    def figures(self) -> list[str]:
        """The words that carry a figure, in order (``keys.figures``: a figure is exactly a word
        with a decimal digit in it)."""
        if self._figures is None:
            self._figures = figures(self._key)
        return self._figures

    @property
    def joined(self) -> frozenset[str]:
        """Every two neighbouring words run together."""
        if self._joined is None:
            w = self.words
            self._joined = frozenset(map(str.__add__, w, w[1:]))
        return self._joined

    def typo_of(self, word: str) -> bool:
        """Whether ``word`` is a typo of one of these words that is not a figure (one edit for
        up to six letters, two beyond). The nearest word of all is looked up first; the figures
        are set aside only when that one is a figure."""
        budget = _typo_budget(word)
        if self._choices is None:
            hit = process.extractOne(word, self.words, scorer=OSA.distance, score_cutoff=budget)
            if hit is None:
                return False
            if not is_number(hit[0]):
                return True
            self._choices = [k for k in self.set if not is_number(k)]
        return process.extractOne(word, self._choices, scorer=OSA.distance, score_cutoff=budget) is not None


def novel_words(removed: str, kept: str, partial_last: bool = False, limit: int | None = None) -> list[str]:
    """Words of ``removed`` that ``kept`` does not contain (the first ``limit`` of them, when
    given: callers that only need to know whether there are none, or more than one, stop there
    and skip the typo lookups of the rest).

    Tolerated: a typo of a kept word (one edit, a swap of two neighbouring letters included, for
    words of four to six letters; two beyond; only a swap for three-letter words; never in
    figures), a kept word split in two or two kept words run together, and, with
    ``partial_last``, a last word cut short. Figures must match exactly. Compiled when the
    extension is there (``python_novel_words`` is the same rule in Python).
    """
    if _compiled_novel is None:
        return python_novel_words(removed, kept, partial_last, limit=limit)
    return _compiled_novel(removed, kept, partial_last, limit or 0)


def python_novel_words(removed: str, kept: str, partial_last: bool = False,
                       vocab: Callable[[str], Vocab] = Vocab, limit: int | None = None) -> list[str]:
    """``novel_words`` in Python; ``vocab`` builds a key's words (a caching one when a verifier
    checks one key against many)."""
    removed_vocab, kept_vocab = vocab(removed), vocab(kept)
    kept_set = kept_vocab.set
    missing = removed_vocab.set - kept_set
    if not missing:
        return []
    removed_words = removed_vocab.words
    novel: list[str] = []
    for i in [i for i, w in enumerate(removed_words) if w in missing]:
        w = removed_words[i]
        if is_number(w) or not _tolerated(removed_words, i, kept_vocab, partial_last):
            novel.append(w)
            if len(novel) == limit:
                break
    return novel


def _tolerated(removed_words: list[str], i: int, kept_vocab: Vocab, partial_last: bool) -> bool:
    """Whether word ``i`` of the removed text, missing from the kept one, is an edit that
    ``novel_words`` tolerates (not for figures: the caller sets those aside first)."""
    w, kept_set, last = removed_words[i], kept_vocab.set, len(removed_words) - 1
    if i < last and w + removed_words[i + 1] in kept_set:
        return True
    if i > 0 and removed_words[i - 1] + w in kept_set:
        return True
    if any(w[:j] in kept_set and w[j:] in kept_set for j in range(1, len(w))) and w in kept_vocab.joined:
        return True  # two kept words run together (both halves kept is the cheap test first)
    if partial_last and i == last and any(k.startswith(w) for k in kept_set):
        return True
    if len(w) == 3 and any(_swapped(w, k) for k in kept_set if len(k) == 3):
        return True
    return len(w) >= 4 and kept_vocab.typo_of(w)


def _swapped(a: str, b: str) -> bool:
    """Two neighbouring letters swapped ("teh" for "the"): the one typo short words may carry."""
    return a != b and sorted(a) == sorted(b) and OSA.distance(a, b) == 1


def content_preserved(removed: str, kept: str) -> bool:
    """The content guard for near copies: same figures, and no new word but at most one
    inserted word (a one-word edit adds a word; a template fills a slot with another word, which
    this refuses because the word counts then match). Compiled when the extension is there."""
    if _compiled_preserved is None:
        return python_content_preserved(removed, kept)
    return _compiled_preserved(removed, kept)


def python_content_preserved(removed: str, kept: str, vocab: Callable[[str], Vocab] = Vocab,
                             digits: Callable[[str], list[str]] = figures) -> bool:
    """``content_preserved`` in Python (``vocab`` and ``digits``: caching ones in a verifier)."""
    if not python_same_figures(removed, kept, digits):
        return False
    novel = python_novel_words(removed, kept, vocab=vocab, limit=2)  # two new words already fail
    if not novel:
        return True
    return len(novel) == 1 and len(vocab(removed).words) == len(vocab(kept).words) + 1


def same_figures(a: str, b: str) -> bool:
    """True when both texts carry the same figures, counted with multiplicity."""
    if _compiled_same_figures is None:
        return python_same_figures(a, b)
    return _compiled_same_figures(a, b)


def python_same_figures(a: str, b: str, digits: Callable[[str], list[str]] = figures) -> bool:
    """``same_figures`` in Python."""
    fa, fb = digits(a), digits(b)
    return fa == fb or Counter(fa) == Counter(fb)


def ends_sentence(text: str) -> bool:
    """Whether ``text`` ends a sentence: a sentence mark, then only closing quotes and brackets,
    at the end (or before a final newline), as a regex ending in ``$`` finds it, without its scan
    of every position of the text."""
    if text.endswith("\n"):
        text = text[:-1]
    return text.rstrip(_CLOSERS)[-1:] in _SENTENCE_MARKS


def strip_ellipsis(key: str) -> tuple[str, bool]:
    """The key without a trailing truncation marker, and whether there was one."""
    last = key[-1:]
    if last and last not in _MARKER_ENDS and not last.isspace() and not key.endswith(".."):
        return key, False  # every marker ends the key (but for whitespace) with "..", "…", "]" or ")"
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
    """Checks candidate pairs of keys; ``threshold`` is the minimum similarity (0..1). The content
    guard runs compiled when the extension is there, unless ``compiled`` is False (the same
    decisions, in Python)."""

    def __init__(self, threshold: float, compiled: bool = True) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        self.threshold = threshold
        self._cutoff = threshold * 100.0
        self._novel = _compiled_novel if compiled else None
        self._content_preserved = _compiled_preserved if compiled else None
        self._figures_match = _compiled_same_figures if compiled else None
        self._preserved_both = _compiled_preserved_both if compiled else None
        # Words (and figures) of recently compared keys: a key is usually checked against several
        # candidates in a row, both ways. Bounded, and only a cache: results never depend on it.
        self._vocabs: dict[str, Vocab] = {}
        self._lengths: dict[int, tuple[int, int]] = {}  # matchable_lengths by length

    def _vocab(self, text: str) -> Vocab:
        found = self._vocabs.get(text)
        if found is None:
            if len(self._vocabs) >= CACHE_SIZE:
                self._vocabs.clear()
            found = self._vocabs[text] = Vocab(text)
        return found

    def _digits(self, text: str) -> list[str]:
        return self._vocab(text).figures

    def _preserved(self, removed: str, kept: str) -> bool:
        if self._content_preserved is not None:
            return self._content_preserved(removed, kept)
        return python_content_preserved(removed, kept, self._vocab, self._digits)

    def _adds_words(self, removed: str, kept: str, partial_last: bool = False) -> bool:
        """Whether ``removed`` holds a word ``kept`` lacks (``novel_words``)."""
        if self._novel is not None:
            return bool(self._novel(removed, kept, partial_last, 1))
        return bool(python_novel_words(removed, kept, partial_last, self._vocab, limit=1))

    def _same_figures(self, a: str, b: str) -> bool:
        if self._figures_match is not None:
            return self._figures_match(a, b)
        return python_same_figures(a, b, self._digits)

    def compare(self, ida: int, a: str, idb: int, b: str) -> list[KeyMatch]:
        """All the ways one of two distinct keys may be removed in favour of the other: at most
        one match per direction, a near match first, else a truncated copy or a link tail."""
        found: dict[tuple[int, int], KeyMatch] = {}
        score = fuzz.ratio(a, b, score_cutoff=self._cutoff) / 100.0
        if score:
            if self._preserved_both is not None:
                b_for_a, a_for_b = self._preserved_both(b, a)
            else:
                b_for_a, a_for_b = self._preserved(b, a), self._preserved(a, b)
            if b_for_a:
                found[ida, idb] = KeyMatch(ida, idb, NEAR, score)
            if a_for_b:
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

    def may_match(self, len_a: int, len_b: int) -> bool:
        """Whether texts of these lengths can reach the threshold at all: the Indel distance is at
        least the length difference, so similarity is at most ``2 * min / (len_a + len_b)``.
        Lets a caller skip building a text it would compare in vain (with a hair of slack)."""
        total = len_a + len_b
        return total == 0 or 2 * min(len_a, len_b) >= (self.threshold - 1e-9) * total

    def matchable_lengths(self, length: int) -> tuple[int, int]:
        """The lengths a text may have to pass ``may_match`` with a text of ``length``: an
        interval (the test grows, then falls, with the other length), so a caller checking many
        candidate lengths against one text compares two integers each (remembered by length:
        planning asks again for every paragraph with merge candidates)."""
        found = self._lengths.get(length)
        if found is None:
            found = self._lengths[length] = self._matchable_lengths(length)
        return found

    def _matchable_lengths(self, length: int) -> tuple[int, int]:
        if length == 0:
            return 0, 0
        t = self.threshold - 1e-9
        lo = max(0, int(t * length / (2 - t)) - 2)  # a little below the bound, then up to it
        while not self.may_match(length, lo):
            lo += 1
        hi = int(length * (2 - t) / t) + 2
        while not self.may_match(length, hi):
            hi -= 1
        return lo, hi

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
        if not marked and (_SENTENCE_END.match(kept, len(head)) or ends_sentence(head)):
            return None  # whole sentences said again (a title, a lead), not a cut-short copy
        score = fuzz.ratio(head, kept[: len(head)], score_cutoff=self._cutoff) / 100.0
        if not score or self._adds_words(head, kept[: len(head) + 16], partial_last=True):
            return None
        return score

    def tail(self, kept: str, removed: str) -> float | None:
        """Similarity when ``removed`` is ``kept`` followed by a link tail."""
        n = len(kept)
        if len(removed) <= n or len(removed) - n > MAX_TAIL_CHARS + 8:
            return None
        if not _TAIL_SEPARATOR.search(removed, max(1, n - 12)):
            return None  # no place to split leaves a "Label: headline" tail
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
            if score >= self.threshold and not self._adds_words(head, kept) and self._same_figures(head, kept):
                return score
        return None
