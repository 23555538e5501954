from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from dedup.compose import Composer, StageEdit


def apply_regions(c: Composer) -> str:
    out, pos = [], 0
    for r in c.regions:
        out.append(c.original[pos : r.in_start])
        out.append(c.current[r.out_start : r.out_end])
        pos = r.in_end
    out.append(c.original[pos:])
    return "".join(out)


@st.composite
def stage(draw: st.DrawFn, length: int) -> list[StageEdit]:
    cuts = sorted(draw(st.lists(st.integers(0, length), max_size=8)))
    edits: list[StageEdit] = []
    for a, b in zip(cuts[::2], cuts[1::2], strict=False):
        if edits and (a < edits[-1].end or a == b == edits[-1].start == edits[-1].end):
            continue
        edits.append(StageEdit(a, b, draw(st.text(alphabet="xyz-", max_size=3)), draw(st.sampled_from("ABC"))))
    return edits


@given(st.text(alphabet="abc \n", max_size=30), st.data())
def test_composed_regions_rebuild_each_stage_output(text: str, data: st.DataObject) -> None:
    c = Composer(text)
    for _ in range(data.draw(st.integers(1, 4))):
        expected = c.current
        edits = data.draw(stage(len(c.current)))
        for e in sorted(edits, key=lambda e: (e.start, e.end), reverse=True):
            expected = expected[: e.start] + e.new + expected[e.end :]
        c.apply(edits)
        assert c.current == expected
        assert apply_regions(c) == c.current
        spans = [(r.in_start, r.in_end) for r in c.regions]
        assert all(a[1] <= b[0] for a, b in pairwise(spans))


def test_overlapping_stages_merge_and_keep_both_rules() -> None:
    c = Composer("kräfte&shy;zehrend")
    c.apply([StageEdit(6, 11, "\u00ad", "html-entity")])
    c.apply([StageEdit(6, 7, "", "invisible")])
    (r,) = c.regions
    assert (r.in_start, r.in_end, c.current[r.out_start : r.out_end]) == (6, 11, "")
    assert r.rules == ("html-entity", "invisible") and c.current == "kräftezehrend"


def test_a_stage_that_undoes_another_leaves_no_region() -> None:
    c = Composer("a  b")
    c.apply([StageEdit(1, 3, " ", "whitespace")])
    c.apply([StageEdit(1, 2, "  ", "other")])
    assert c.regions == []
