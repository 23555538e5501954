import pytest

from dedup.apply import apply_edits, removal_spans, restore
from dedup.model import REMOVE, Edit, ParagraphRef
from dedup.segment import segment


def remove(text: str, indices: list[int]) -> tuple[str, list[Edit]]:
    seg = segment(text)
    spans = removal_spans(seg, indices)
    edits = [Edit(REMOVE, s, e, text[s:e], "", "exact", "long-enough",
                  ParagraphRef("d", i, seg.starts[i], seg.ends[i]), (), 0, 1.0, 1.0)
             for i, (s, e) in sorted(spans.items())]
    return apply_edits(text, edits), edits


@pytest.mark.parametrize(("text", "indices", "expected"), [
    ("A\nB\nC\n", [1], "A\nC\n"),
    ("A\nB\nC\n", [2], "A\nB\n"),
    ("A\nB\nC", [2], "A\nB"),
    ("A\nB\nC\n", [0], "B\nC\n"),
    ("A\nB\nC\n", [1, 2], "A\n"),
    ("A\n\nB\n\n  C\n\nD\n", [1], "A\n\n  C\n\nD\n"),
    ("A\n\nB\n\nC\n", [1, 2], "A\n"),
    ("A\r\nB\r\nC\r\n", [1], "A\r\nC\r\n"),
    ("\n\nA\nB\n", [0, 1], "\n\n\n"),  # only whitespace remains when all goes
    ("  indented\nB\n", [1], "  indented\n"),
])
def test_removal_keeps_the_layout_around_it(text: str, indices: list[int], expected: str) -> None:
    out, edits = remove(text, indices)
    assert out == expected
    assert restore(out, edits) == text


def test_edits_that_do_not_match_are_refused() -> None:
    _, edits = remove("A\nB\nC\n", [1])
    with pytest.raises(ValueError):
        apply_edits("A\nX\nC\n", edits)
    with pytest.raises(ValueError):
        restore("A\nC\n", [Edit(REMOVE, 2, 4, "B\n", "zz", "exact", "", ParagraphRef("d", 1, 2, 3), (), 0, 1.0, 1.0)])
