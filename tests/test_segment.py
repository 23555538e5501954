from hypothesis import given
from hypothesis import strategies as st

from dedup.segment import BLANK_LINE, LINE, segment


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
