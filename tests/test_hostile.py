"""Adversarial documents (hypothesis): nothing raises, spans are exact, cleaning is idempotent,
restore rebuilds every input, and the output is the input with exactly the edit spans removed.

The strategies mix what scraped text throws at a cleaner: combining marks, right-to-left text and
bidi controls, lone surrogates (undecodable bytes passed through ``surrogateescape``), NUL and other
controls, lone carriage returns, very long words (beyond the piece limit), lines of punctuation
only, and many identical lines. ``benchmarks/fuzz.py`` runs the same checks with many more
examples (and the byte-level decoder under atheris).
"""

from __future__ import annotations

import json
from collections import Counter

from conftest import run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedup.apply import restore
from dedup.keys import matching_key
from dedup.model import REMOVE
from dedup.pipeline import Result
from dedup.plan import MAX_SOURCES
from dedup.readers import Decoded, decode
from dedup.render.jsonl import dumps, edit_record
from dedup.segment import _SENTENCE_GAP, MAX_PARAGRAPH_CHARS, _units, segment

SENTENCES = [
    "The council opened a floating library on the old harbour on Saturday, in a former ferry.",
    "The ferry will stay moored at the north pier until October, then move to the river mouth.",
    "Le ministre a signé à Rabat un protocole d’accord pour encadrer les relations sécuritaires.",
    "שלום עולם, זהו משפט ארוך מספיק כדי להיחשב פסקה בפני עצמה, עם מספרים 12 ו-34.",
    "مرحبا بالعالم، هذه جملة طويلة بما يكفي لتعتبر فقرة مستقلة في النص المجمع.",
    "日本語の文章です。これは重複を検出するためのテストです。",
]
SPECIAL = [
    "\u0301", "\u0308", "\u20dd", "\u0336",  # combining marks
    "\u202e", "\u202d", "\u202a", "\u2066", "\u2067", "\u2069", "\u200e", "\u200f", "\u061c",  # bidi
    "\udc80", "\udcff", "\ud800",  # lone surrogates
    "\x00", "\x1b", "\x07", "\x9b", "\x7f",  # controls
    "\r",  # a lone carriage return (a line break)
    "\u2028", "\u2029", "\ufeff", "\u00a0", "\u200b", "\u00ad", "&nbsp;", "🙂", "𝕏",
]
PUNCTUATION = "!?.,;:…—-–*#|/\\\"'«»()[]"

fragment = st.one_of(
    st.sampled_from(SENTENCES),
    st.lists(st.sampled_from([*SPECIAL, "a", "b", " ", ".", "!"]), min_size=1, max_size=30).map("".join),
    st.text(alphabet=st.characters(codec=None, exclude_characters="\n"), min_size=1, max_size=20),
    st.text(alphabet=st.sampled_from(PUNCTUATION + " "), min_size=1, max_size=40),  # punctuation only
    st.builds(lambda ch, n: ch * n, st.sampled_from(["x", "é", "e\u0301", "\u05d0", "!"]), st.integers(50, 400)),
)
very_long_word = st.builds(lambda ch, n: ch * n, st.sampled_from(["y", "\u0627", "e\u0301"]),
                           st.integers(MAX_PARAGRAPH_CHARS // 2, MAX_PARAGRAPH_CHARS + 5000))


@st.composite
def line(draw: st.DrawFn) -> str:
    parts = draw(st.lists(fragment, min_size=1, max_size=4))
    return draw(st.sampled_from([" ", "", "\u202e", "\u0301 "])).join(parts).replace("\n", " ")


@st.composite
def document(draw: st.DrawFn) -> str:
    """Lines of adversarial text, some repeated (near or exact), some many times over, one or two
    very long; one paragraph per line, or blank-line separated blocks."""
    lines = draw(st.lists(line(), max_size=10))
    if draw(st.booleans()) and lines:  # a block said again (the body captured twice)
        start = draw(st.integers(0, len(lines) - 1))
        lines += lines[start : start + draw(st.integers(1, 4))]
    if draw(st.integers(0, 5)) == 0 and lines:  # many identical lines
        lines += [draw(st.sampled_from(lines))] * draw(st.integers(20, 150))
    if draw(st.integers(0, 7)) == 0:
        word = draw(very_long_word)
        lines.insert(draw(st.integers(0, len(lines))), f"{word} {word}" if draw(st.booleans()) else word)
    if draw(st.booleans()):  # one line per paragraph, any line break between them
        breaks = st.sampled_from(["\n", "\r\n", "\r"])
        text = "".join(ln + draw(breaks) for ln in lines)
    else:
        text = draw(st.sampled_from(["\n\n", "\r\n\r\n", "\n \n"])).join(lines)
    return text if draw(st.booleans()) else text.rstrip("\r\n")


corpus = st.dictionaries(st.sampled_from(["a.txt", "b.txt", "c/d.txt"]), document(), min_size=1, max_size=3)
HOSTILE = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def check_result(result: Result) -> None:
    """Spans exact; output = input with exactly the edit spans removed; restore; reports encodable."""
    fingerprint = result.settings.fingerprint()
    for d in result.documents:
        text = d.document.text
        seg = segment(text)
        assert d.paragraphs == len(seg)
        for a, b, ls, le in zip(seg.starts, seg.ends, seg.line_starts, seg.line_ends, strict=True):
            assert ls <= a < b <= le and text[a:b] == text[a:b].strip()
            assert b - a <= MAX_PARAGRAPH_CHARS
        kept: list[str] = []
        pos = 0
        for e in sorted(d.edits, key=lambda e: e.start):
            assert pos <= e.start <= e.end and text[e.start : e.end] == e.old
            if e.op == REMOVE:  # a removal takes whole paragraphs; a fix is recorded with its new text
                assert e.new == "" and e.paragraph is not None and e.start < e.end
                assert e.start <= e.paragraph.start < e.paragraph.end <= e.end
            kept.append(text[pos : e.start])
            kept.append(e.new)
            pos = e.end
        kept.append(text[pos:])
        assert d.cleaned == "".join(kept)  # nothing in the output but kept input and recorded fixes
        assert restore(d.cleaned, d.edits) == text
        texts = {x.document.id: x.document.text for x in result.documents}
        line = dumps(edit_record(d, fingerprint, texts))
        line.encode("utf-8")  # lone surrogates are escaped, never written raw
        assert json.loads(line)["edits"] == json.loads(dumps(edit_record(d, fingerprint, texts)))["edits"]


@HOSTILE
@given(corpus)
def test_hostile_documents(docs: dict[str, str]) -> None:
    result = run(docs)
    check_result(result)
    once = {d.document.id: d.cleaned for d in result.documents}
    again = run(once)
    check_result(again)
    check_idempotent(result, again)


def _long_paragraphs(text: str) -> tuple[str, int, bool]:
    """How ``text`` is split: its mode, how many paragraphs are matched as pieces, and whether one
    of those holds a sentence longer than the piece limit (cut by length, not by content)."""
    seg = segment(text)
    firsts = [k - 1 for k in seg.continued if k - 1 not in seg.continued]
    overlong = False
    for k in firsts:
        m = k
        while m + 1 in seg.continued:
            m += 1
        overlong |= any(b - a > MAX_PARAGRAPH_CHARS for a, b in _units(text, seg.starts[k], seg.ends[m], _SENTENCE_GAP))
    return seg.mode, len(firsts), overlong


def check_idempotent(first: Result, second: Result) -> None:
    """A second run changes nothing, except in the cases the README lists under limits: a
    document whose cleaning changed how it is split (blank-line blocks -> lines, or a paragraph
    of pieces brought under the piece limit) or that holds a sentence over the piece limit (cut
    by length: removing a piece moves the cuts after it); in corpus scope that changes what every
    other document is compared with; a paragraph with more than ``MAX_SOURCES`` copies (each copy
    looks for a kept source among that many), and a merged line whose parts became neighbours
    when the copies between them went."""
    switched = [d.document.id for d in first.documents
                if _long_paragraphs(d.cleaned) != _long_paragraphs(d.document.text)
                or _long_paragraphs(d.document.text)[2]]
    if switched and first.settings.scope == "corpus":
        return
    copies: Counter[tuple[str, str]] = Counter()
    for d in first.documents:
        seg = segment(d.document.text)
        scope = d.document.id if first.settings.scope == "document" else ""
        copies.update((scope, matching_key(d.document.text[a:b])) for a, b in zip(seg.starts, seg.ends, strict=True))
    if copies and max(copies.values()) > MAX_SOURCES:
        return
    for before, after in zip(first.documents, second.documents, strict=True):
        if before.document.id not in switched:
            assert all(e.rule == "merged" for e in after.edits), before.document.id


@HOSTILE
@given(corpus, st.sampled_from(["document", "corpus"]), st.sampled_from(["first", "longest"]))
def test_hostile_documents_under_other_settings(docs: dict[str, str], scope: str, keep: str) -> None:
    check_result(run(docs, scope=scope, keep=keep, min_chars=5))


@HOSTILE
@given(st.binary(max_size=300), st.sampled_from(["utf-8", "auto", "cp1252", "utf-16-le", "latin-1", "shift_jis"]))
def test_any_bytes_decode_to_a_round_trip_or_a_problem(data: bytes, encoding: str) -> None:
    got = decode(data, "f", encoding)
    if isinstance(got, Decoded):
        assert got.text.encode(got.encoding) == data
        assert "\x00" not in got.text
    else:
        assert got.source == "f" and got.message.endswith(("skipped", "--encoding auto"))
        assert got.offset is None or 0 <= got.offset <= len(data)
