import unicodedata
from itertools import pairwise

import pytest
from conftest import sentences
from hypothesis import given
from hypothesis import strategies as st

from dedup.apply import removal_spans
from dedup.segment import BLANK_LINE, LINE, segment, split_long


def spans(text: str) -> list[str]:
    s = segment(text)
    return [text[a:b] for a, b in zip(s.starts, s.ends, strict=True)]


def test_one_paragraph_per_line_without_blank_lines() -> None:
    text = "Title\n  First line.  \nSecond line.\n"
    s = segment(text)
    assert s.mode == LINE
    assert spans(text) == ["Title", "First line.", "Second line."]
    assert s.line_starts == (0, 6, 22) and s.line_ends == (5, 21, 34)


def test_blank_line_separated_paragraphs_may_span_lines() -> None:
    text = "Title\n\nFirst line\ncontinued.\n \t\nLast.\n"
    s = segment(text)
    assert s.mode == BLANK_LINE
    assert spans(text) == ["Title", "First line\ncontinued.", "Last."]


def test_leading_and_trailing_blank_lines_do_not_switch_mode() -> None:
    assert segment("\n\nA\nB\n\n\n").mode == LINE
    assert spans("\n\nA\nB\n\n\n") == ["A", "B"]


def test_crlf_and_lone_cr_are_line_breaks() -> None:
    text = "A\r\nB\rC\r\n\r\nD"
    assert spans(text) == ["A\r\nB\rC", "D"]
    assert spans("A\r\nB\r\nC") == ["A", "B", "C"]


def test_empty_and_whitespace_only_documents_have_no_paragraphs() -> None:
    assert len(segment("")) == 0
    assert len(segment(" \n\t\n")) == 0


@given(st.text(alphabet=st.sampled_from("ab \t\n\r\u00a0\u2028é"), max_size=80))
def test_spans_reproduce_the_text(text: str) -> None:
    s = segment(text)
    for a, b, ls, le in zip(s.starts, s.ends, s.line_starts, s.line_ends, strict=True):
        assert ls <= a < b <= le
        assert text[a:b] == text[a:b].strip()
        assert text[ls:a].strip() == "" and text[b:le].strip() == ""
    # Everything outside the paragraphs is whitespace: nothing is lost between spans.
    covered: set[int] = set()
    for a, b in zip(s.starts, s.ends, strict=True):
        covered.update(range(a, b))
    assert all(text[i].isspace() for i in range(len(text)) if i not in covered)


# -- over-long paragraphs: pieces --------------------------------------------------------------

def _check_pieces(text: str, start: int, end: int, pieces: list[tuple[int, int]], limit: int) -> None:
    assert pieces and pieces[0][0] == start and pieces[-1][1] == end
    for a, b in pieces:
        assert 0 < b - a <= limit
        assert text[a:b] == text[a:b].strip()
    for (_, b), (a, _) in pairwise(pieces):
        assert b <= a and text[b:a].strip() == ""


def test_a_long_line_is_cut_into_pieces_with_exact_spans() -> None:
    line = "  " + sentences(400) + "  "
    text = "Title\n" + line + "\nEnd.\n"
    s = segment(text, max_chars=1000)
    assert s.mode == LINE and len(s) > 10
    first, last = 1, len(s) - 2
    assert s.continued == frozenset(range(first + 1, last + 1))
    assert s.line_starts[first] == 6 and s.line_ends[last] == 6 + len(line)  # the line's own ends
    pieces = list(zip(s.starts[first : last + 1], s.ends[first : last + 1], strict=True))
    _check_pieces(text, 8, 6 + len(line) - 2, pieces, 1000)
    assert all(text[b - 1] == "." for _, b in pieces[:-1])  # cut at sentence ends


def test_pieces_depend_on_the_text_not_on_where_it_starts() -> None:
    body = sentences(600, seed=3)
    one = split_long(body, 0, len(body), 1000)
    shifted = "Something else first. " * 7 + body
    two = split_long(shifted, 0, len(shifted), 1000)
    texts_one = {body[a:b] for a, b in one}
    texts_two = {shifted[a:b] for a, b in two}
    assert len(texts_one & texts_two) >= len(one) - 3  # in step after the first cut or two


@pytest.mark.parametrize("text", [
    "x" * 5000,  # no whitespace at all: hard cuts
    ("e\u0301" * 2000),  # combining marks: never cut before one
    " ".join(["word"] * 2000),  # no sentence end: cut at whitespace
    "Same sentence again and again. " * 300,  # repeated text: pieces not tiny
    "。".join(["日本語の文"] * 1200),  # CJK full stops without spaces
])
def test_split_long_keeps_its_invariants(text: str) -> None:
    text = text.strip()
    pieces = split_long(text, 0, len(text), 1000)
    _check_pieces(text, 0, len(text), pieces, 1000)
    for a, _ in pieces:
        assert unicodedata.category(text[a]) != "Mn"
    assert len(pieces) <= len(text) // (1000 // 8) + 1


@given(st.text(alphabet=st.sampled_from("ab .!?\n\u0301。"), min_size=1, max_size=400), st.integers(2, 60))
def test_split_long_invariants_for_any_text(raw: str, limit: int) -> None:
    text = raw.strip()
    if not text:
        return
    _check_pieces(text, 0, len(text), split_long(text, 0, len(text), limit), limit)


def test_removing_a_piece_removes_its_text_and_the_whitespace_after_it() -> None:
    line = "    " + sentences(300, seed=5)
    text = line + "\nNext.\n"
    s = segment(text, max_chars=800)
    assert len(s) >= 4
    spans = removal_spans(s, [0, 2])
    assert spans[0] == (s.starts[0], s.starts[1])  # the indentation stays
    assert spans[2] == (s.starts[2], s.starts[3])
    assert text[: spans[0][0]] == "    "
