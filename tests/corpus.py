"""A generated corpus of scraped-looking documents with every kind of repetition dedup handles.

Deterministic for a seed: exact copies within and across documents, near copies (typos, doubled
spaces, a changed or inserted word), copies cut short with an ellipsis, copies with a link tail,
two paragraphs merged into one line, repeated runs (a block of paragraphs, short headings and
list items included, copied from another document or captured twice in one), boilerplate lines
in many documents, legitimate repeats (short labels, list items) and text-fix artefacts.
"""

from __future__ import annotations

import random

from dedup import Document

_SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "ta", "vo", "si", "de", "pa", "ro", "li", "ma", "te", "no", "su",
              "ga", "fe", "bi", "zo", "ha", "ku", "ye", "wa", "chi", "tra", "ble", "str", "on", "el")
_LINKS = ("Read more: ", "Lire aussi : ", "Mehr zum Thema: ", "Related: ")
_BOILERPLATE = ("Subscribe to our newsletter for weekly updates.", "All rights reserved by the publisher.",
                "Share this article on social media.")
_LABELS = ("Summary", "Zusammenfassung", "Click to enlarge", "Advertisement", "Photo: archive")


class _Words:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.vocabulary = sorted({self._word() for _ in range(3000)})

    def _word(self) -> str:
        return "".join(self.rng.choice(_SYLLABLES) for _ in range(self.rng.randint(1, 4)))

    def sentence(self, low: int = 6, high: int = 16) -> str:
        words = [self.rng.choice(self.vocabulary) for _ in range(self.rng.randint(low, high))]
        if self.rng.random() < 0.3:
            words.insert(self.rng.randrange(len(words)), str(self.rng.randint(2, 2030)))
        return " ".join(words).capitalize() + self.rng.choice(".....!?")

    def paragraph(self) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(1, 4)))

    def heading(self) -> str:
        return self.sentence(2, 5).rstrip(".!?")


def _typo(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) > 5 and w.isalpha()]
    if not candidates:
        return text.replace(" ", "  ", 1)
    i = rng.choice(candidates)
    w = words[i]
    k = rng.randrange(1, len(w) - 2)
    words[i] = w[:k] + w[k + 1] + w[k] + w[k + 2 :]  # two letters swapped
    return " ".join(words)


def _variant(rng: random.Random, words: _Words, text: str) -> str:
    """A near copy, a cut-short copy, a copy with a link tail, or a copy with scraping artefacts."""
    kind = rng.randrange(6)
    if kind == 0:
        return _typo(rng, text)
    if kind == 1:
        return text.replace(" ", "  ", 2)
    if kind == 2 and len(text) > 80:
        cut = text.rfind(" ", 0, int(len(text) * rng.uniform(0.5, 0.8)))
        return text[:cut] + " …"
    if kind == 3:
        return text + " " + rng.choice(_LINKS) + words.heading()
    if kind == 4:
        return text.replace(" ", " &amp; ", 1) if rng.random() < 0.5 else text.replace("a", "a\u00ad", 1)
    return text.replace(" ", f" {rng.choice(words.vocabulary)} ", 1)  # one inserted word


def generate(documents: int = 150, seed: int = 7) -> list[Document]:
    """About ``20 * documents`` paragraphs, ids ``doc-0000.txt`` ...; every document is given in
    shuffled order (the engines sort by id)."""
    rng = random.Random(seed)
    words = _Words(rng)
    made: list[list[str]] = []
    out: list[Document] = []
    for d in range(documents):
        paras: list[str] = []
        blank = rng.random() < 0.4  # paragraphs at blank lines, else one per line
        target = rng.randint(8, 30)
        while len(paras) < target:
            r = rng.random()
            if made and r < 0.10:  # an exact copy from an earlier document
                paras.append(rng.choice(rng.choice(made)))
            elif made and r < 0.20:  # a variant of an earlier paragraph
                source = rng.choice(rng.choice(made))
                paras.append(_variant(rng, words, source) if len(source) > 40 else source)
            elif made and r < 0.25:  # a repeated run: a block of another document
                other = rng.choice(made)
                lo = rng.randrange(len(other))
                paras.extend(other[lo : lo + rng.randint(2, 6)])
            elif len(paras) > 3 and r < 0.29:  # the body captured twice, with a variant inside
                lo = rng.randrange(len(paras) - 2)
                block = paras[lo : lo + rng.randint(2, 5)]
                if len(block) > 2:
                    block[1] = _variant(rng, words, block[1])
                paras.extend(block)
            elif len(paras) > 2 and r < 0.31:  # two earlier paragraphs merged on one line
                k = rng.randrange(len(paras) - 1)
                paras.append(paras[k] + " " + paras[k + 1])
            elif r < 0.36:
                paras.append(words.heading())
            elif r < 0.41:
                paras.append(f"- {words.sentence(2, 7)}")
            elif r < 0.44:
                paras.append(rng.choice(_LABELS))
            elif r < 0.47:
                paras.append(rng.choice(_BOILERPLATE))
            else:
                paras.append(words.paragraph())
        if rng.random() < 0.1:
            paras[rng.randrange(len(paras))] += "  "  # trailing spaces: a whitespace fix
        made.append(paras)
        sep = "\n\n" if blank else "\n"
        text = sep.join(paras) + ("\n" if rng.random() < 0.9 else "")
        if rng.random() < 0.05:
            text = text.replace("\n", "\r\n")
        out.append(Document(f"doc-{d:04d}.txt", text))
    rng.shuffle(out)
    return out
