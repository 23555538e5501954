"""The decision rules: standing duplicates, repeated runs, list items, merged lines, keep rules."""

from array import array

import pytest
from conftest import cleaned, removal, run
from hypothesis import given
from hypothesis import strategies as st

from dedup import _kernels
from dedup.index import Index
from dedup.keys import figures
from dedup.lsh import choose_banding
from dedup.model import ALONE, IN_RUN
from dedup.plan import Planner, is_list_item, python_merge_windows
from dedup.settings import Settings
from dedup.verify import Verifier

LONG_A = "The city council opened a floating library on the old harbour on Saturday afternoon."
LONG_B = "The project took three years, most of it spent replacing the hull plating of the ferry."
LONG_C = "The ferry stays at the north pier until October, when it moves to the river mouth."


def lines(*parts: str) -> str:
    return "\n".join(parts) + "\n"


def test_a_long_paragraph_repeated_alone_is_removed() -> None:
    out = cleaned({"a": lines(LONG_A, LONG_B, LONG_A)})
    assert out["a"] == lines(LONG_A, LONG_B)


def test_a_short_line_repeated_alone_is_kept() -> None:
    text = lines("Summary", LONG_A, "Summary", LONG_B, "Click to enlarge", "Click to enlarge")
    assert cleaned({"a": text})["a"] == text


def test_short_lines_go_inside_a_repeated_run() -> None:
    text = lines("Harbour library", "By Anna Keller", LONG_A, LONG_B, "By Anna Keller", LONG_A, LONG_B)
    result = run({"a": text})
    assert result.documents[0].cleaned == lines("Harbour library", "By Anna Keller", LONG_A, LONG_B)
    reasons = sorted((removal(e)[0].index, e.reason) for e in result.documents[0].edits)
    assert reasons == [(4, IN_RUN), (5, ALONE), (6, ALONE)]


def test_list_items_are_not_removed_on_their_own() -> None:
    item = "- Anmeldung und Karten: per E-Mail an karten@example.org oder telefonisch unter 0345 1234"
    text = lines("Termin: 21.02., 19 Uhr", item, "- Eintritt: 44,90 €", "Termin: 27.03., 19 Uhr", item,
                 "- Eintritt: 44,90 €")
    assert cleaned({"a": text})["a"] == text
    assert is_list_item("- item") and is_list_item("• item") and is_list_item("1. item") and is_list_item("a) item")
    assert not is_list_item("-item") and not is_list_item("(16) Episode title")


def test_runs_need_their_copies_to_be_neighbours() -> None:
    # Two duplicates next to each other whose copies are far apart: not a run, the short one stays.
    filler = [f"Unrelated paragraph number {i} about something else entirely, long enough." for i in range(8)]
    text = lines("Short label here", *filler[:4], LONG_A, *filler[4:], "Short label here", LONG_A)
    out = cleaned({"a": text})["a"]
    assert out.count("Short label here") == 2 and out.count(LONG_A) == 1


def test_a_block_repeated_with_its_lines_reordered_is_a_run() -> None:
    block = ["Tubman's Hymnal", "Donated by Charles L. Blockson", "Photo: Jessica Kourkounis",
             "Some of my relatives escaped from southern Delaware with Harriet Tubman, he said.",
             "Harriet Tubman has a national park named in her honor, and this year the Treasury acted."]
    second = [block[2], block[0], block[1], block[3], block[4]]
    out = cleaned({"a": lines("Objects", *block, *second)})["a"]
    assert out == lines("Objects", *block)


def test_a_line_merging_two_kept_paragraphs_is_removed() -> None:
    text = lines("Night trains return to the Alps", LONG_A, LONG_B, "Night trains return to the Alps " + LONG_A)
    result = run({"a": text})
    edit = result.documents[0].edits[0]
    assert result.documents[0].cleaned == lines("Night trains return to the Alps", LONG_A, LONG_B)
    assert edit.rule == "merged" and [k.index for k in edit.kept] == [0, 1]


def test_a_merged_line_may_skip_a_paragraph_the_copy_left_out() -> None:
    text = lines(LONG_A, "Subscribe to comment.", LONG_B, LONG_C, LONG_A + " " + LONG_B)
    assert cleaned({"a": text})["a"] == lines(LONG_A, "Subscribe to comment.", LONG_B, LONG_C)


def test_a_short_typo_line_inside_a_copied_block_is_checked_against_its_neighbour() -> None:
    text = lines(LONG_A, '- "Miracle" -', LONG_B, LONG_C, LONG_A, '- "Miarcle" -', LONG_B)
    assert cleaned({"a": text})["a"] == lines(LONG_A, '- "Miracle" -', LONG_B, LONG_C)


def test_a_typo_line_inside_a_copied_block_must_keep_its_figures() -> None:
    # the gap check turns pairs down on their lengths and figure prints before reading a text:
    # the same figures must still be found, and one changed figure must keep the line
    typo = lines(LONG_A, '- "Miracle" 19:30 -', LONG_B, LONG_C, LONG_A, '- "Miarcle" 19:30 -', LONG_B)
    assert cleaned({"a": typo})["a"] == lines(LONG_A, '- "Miracle" 19:30 -', LONG_B, LONG_C)
    other_time = lines(LONG_A, '- "Miracle" 19:30 -', LONG_B, LONG_C, LONG_A, '- "Miarcle" 19:45 -', LONG_B)
    assert cleaned({"a": other_time})["a"] == lines(LONG_A, '- "Miracle" 19:30 -', LONG_B, LONG_C,
                                                     '- "Miarcle" 19:45 -')


@given(a=st.text(alphabet="ab1 2.\u00e9", max_size=30), b=st.text(alphabet="ab1 2.\u00e9", max_size=30))
def test_near_is_none_outside_the_matchable_lengths(a: str, b: str) -> None:
    """What the planner's length tests rely on (merged windows and the gap check)."""
    verifier = Verifier(0.85)
    shortest, longest = verifier.matchable_lengths(len(a))
    if not shortest <= len(b) <= longest:
        assert verifier.near(a, b) is None


FIGURES_A = "The 2024 budget gave the harbour library 3.5 million euros, 12% more than in 2023."
FIGURES_B = "Its 40,000 books arrived on 7 March, carried aboard by 150 volunteers in two days."


def test_a_merged_line_with_figures_is_removed_and_one_with_other_figures_is_kept() -> None:
    # windows are turned down on their figures before any text is joined: the same figures must
    # still find the merged line, and one changed figure must keep it (the near rule asks both)
    text = lines(FIGURES_A, FIGURES_B, LONG_C, FIGURES_A + " " + FIGURES_B)
    result = run({"a": text})
    assert result.documents[0].cleaned == lines(FIGURES_A, FIGURES_B, LONG_C)
    assert [(e.rule, [k.index for k in e.kept]) for e in result.documents[0].edits] == [("merged", [0, 1])]
    changed = lines(FIGURES_A, FIGURES_B, LONG_C, FIGURES_A + " " + FIGURES_B.replace("150", "160"))
    assert cleaned({"a": changed})["a"] == changed


@given(members=st.lists(st.text(alphabet="ab1 2.,-_\u00e9\u0663x", max_size=20), min_size=2, max_size=3),
       key=st.text(alphabet="ab1 2.,-_\u00e9\u0663x", max_size=40))
def test_a_window_has_the_figures_of_its_members(members: list[str], key: str) -> None:
    """What the planner's figure test relies on: a window (its members joined by spaces) holds
    its members' figures, and near() turns down a key whose figures differ from the window's."""
    joined = " ".join(members)
    assert sorted(figures(joined)) == sorted(f for m in members for f in figures(m))
    if sorted(figures(key)) != sorted(figures(joined)):
        assert Verifier(0.85).near(key, joined) is None


def test_keep_first_and_keep_longest() -> None:
    full = LONG_A[:-1] + ", the mayor said in a statement."
    text = lines(LONG_A + " …", LONG_B, full)  # the first copy is the shorter one
    assert cleaned({"a": text}, keep="first")["a"] == text  # a longer later copy is never removed
    assert cleaned({"a": text}, keep="longest")["a"] == lines(LONG_B, full)  # the longest copy stays
    text2 = lines(LONG_A, LONG_B, LONG_A[:60] + "…")
    assert cleaned({"a": text2}, keep="longest")["a"] == lines(LONG_A, LONG_B)


def test_scope_document_ignores_other_documents() -> None:
    docs = {"a": lines(LONG_A, LONG_B), "b": lines(LONG_C, LONG_A)}
    assert cleaned(docs)["b"] == lines(LONG_C)
    assert cleaned(docs, scope="document")["b"] == docs["b"]


def test_every_removal_points_at_a_kept_paragraph() -> None:
    text = lines(LONG_A, LONG_A, LONG_A, LONG_B, LONG_A + " Read more: Boats and books", LONG_B[:60] + "…")
    result = run({"a": text, "b": lines(LONG_B, LONG_A)})
    removed = {(removal(e)[0].doc, removal(e)[0].index) for d in result.documents for e in d.edits}
    for d in result.documents:
        for e in d.edits:
            assert all((k.doc, k.index) not in removed for k in e.kept)
            assert removal(e)[1] >= result.settings.threshold
    assert cleaned({"a": text, "b": lines(LONG_B, LONG_A)})["b"] == "\n"  # all of b is a copy


@given(keys=st.lists(st.integers(0, 5), min_size=2, max_size=9), lengths=st.lists(st.integers(0, 60), min_size=6,
                                                                                max_size=6),
       prints=st.lists(st.sampled_from([0, 1, 2**63, 2**64 - 1]), min_size=6, max_size=6), data=st.data())
def test_compiled_merge_windows_are_the_python_loops(keys: list[int], lengths: list[int], prints: list[int],
                                                     data: st.DataObject) -> None:
    """The merged-line windows around a part's copy that pass the length and figure tests: the
    compiled loop (``_kernels.merge_windows``) and ``python_merge_windows`` give the same, in the
    same order, with the figure prints adding up past 2**64."""
    n = len(keys)
    q = data.draw(st.integers(0, n - 1))
    first = data.draw(st.integers(max(0, q - 2), q))
    end = data.draw(st.integers(q + 1, min(n, q + 3)))
    gid = data.draw(st.integers(0, n + 1))
    min_part = data.draw(st.sampled_from([0.0, 15.0, 20.5]))
    shortest, longest = data.draw(st.integers(0, 80)), data.draw(st.integers(0, 200))
    own = data.draw(st.sampled_from([0, 1, 2, 2**63, 2**63 + 1, 2**64 - 2]))
    columns = array("i", keys), array("i", lengths), array("Q", prints)
    want = python_merge_windows(*columns, first, end, q, gid, min_part, shortest, longest, lambda: own)
    assert _kernels.merge_windows(*columns, first, end, q, gid, min_part, shortest, longest, own) == want


def test_compiled_merge_windows_check_their_arguments() -> None:
    keys, lengths, prints = array("i", [0, 1, 0]), array("i", [20, 30]), array("Q", [0, 0])
    assert _kernels.merge_windows(keys, lengths, prints, 0, 3, 1, 9, 15.0, 0, 100, 0) == [
        ((0, 1), (0, 1)), ((1, 2), (1, 0)), ((0, 1, 2), (0, 1, 0))]
    with pytest.raises(ValueError, match="out of range"):
        _kernels.merge_windows(keys, lengths, prints, 0, 4, 1, 9, 15.0, 0, 100, 0)  # end past the paragraphs
    with pytest.raises(ValueError, match="out of range"):
        _kernels.merge_windows(array("i", [0, 5, 0]), lengths, prints, 0, 3, 1, 9, 15.0, 0, 100, 0)  # no key 5
    with pytest.raises(TypeError, match="8 bytes"):
        _kernels.merge_windows(keys, lengths, array("i", [0, 0]), 0, 3, 1, 9, 15.0, 0, 100, 0)


@given(docs=st.lists(st.lists(st.integers(0, 7), min_size=1, max_size=6), min_size=1, max_size=4),
       lo=st.integers(0, 24), scope=st.sampled_from(["corpus", "document"]))
def test_candidates_of_a_key_seen_once_follow_the_general_rule(docs: list[list[int]], lo: int, scope: str) -> None:
    """``Planner._candidates`` answers a key seen once without the general search: the same
    occurrences as ``_among``, the general search, for every paragraph and key."""
    index = Index(choose_banding(16, 0.4), 16)
    for text in ("k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"):
        index.intern(text)
    for n, kids in enumerate(docs):
        index.add_columns(f"d{n}", kids, list(range(len(kids))), list(range(1, len(kids) + 1)))
    lo = min(lo, index.paragraphs - 1)
    planner = Planner(Settings(scope=scope), Verifier(0.85))
    rank = planner._ranker(index, lo, index.paragraphs)
    checked = 0
    for gid in range(index.paragraphs):
        for kid in range(8):
            occ = index.occurrences(kid)
            if len(occ) == 1:
                assert planner._candidates(index, kid, gid, lo, rank) == planner._among(index, occ, gid, lo, rank)
                checked += 1
    assert checked or all(len(index.occurrences(k)) != 1 for k in range(8))
