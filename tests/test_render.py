import json
from bisect import bisect_right

from conftest import check_records, run
from hypothesis import given
from hypothesis import strategies as st

from dedup.render.jsonl import (
    _COMPACT,
    OFFSETS,
    SCHEMA,
    _compact,
    _Lines,
    cluster_record,
    dumps,
    edit_record,
    edit_records,
    sha256,
)

P1 = "The council opened a floating library on the old harbour on Saturday, in a former ferry."
P2 = "The ferry will stay moored at the north pier until October, then move to the river mouth."


def test_edit_record_describes_the_document_and_each_edit() -> None:
    text = f"{P1}\n{P2}\n{P1} Read more: Books on boats\n"
    result = run({"doc.txt": text})
    doc = result.documents[0]
    rec = json.loads(dumps(edit_record(doc, result.settings.fingerprint(), {"doc.txt": text})))
    check_records([rec])
    assert rec["schema"] == SCHEMA and rec["version"] == 1 and rec["offsets"] == OFFSETS and rec["kind"] == "document"
    assert rec["document"] == {"id": "doc.txt", "source": None}
    assert rec["input"] == {"sha256": sha256(text), "chars": len(text)}
    assert rec["output"] == {"sha256": sha256(doc.cleaned), "chars": len(doc.cleaned)}
    (edit,) = rec["edits"]
    start = len(P1) + len(P2) + 1
    assert edit["input"] == [start, len(text) - 1]
    assert edit["output"] == [start, start]
    assert edit["old"] == text[start : len(text) - 1] and edit["new"] == ""
    assert edit["rule"] == "tail" and edit["reason"] == "long-enough"
    assert edit["kept"] == [{"doc": "doc.txt", "index": 0, "span": [0, len(P1)], "text": P1}]
    assert edit["lines"] == {"first": 2, "before": P2, "after": "\n"}  # the last paragraph goes with the newline before
    assert edit["paragraph"] == {"index": 2, "span": [start + 1, len(text) - 1]}
    assert edit["score"] == 1.0 and 0 < edit["estimate"] < 1


def test_cluster_record_lists_members_with_status() -> None:
    result = run({"a": f"{P1}\n{P1}\n", "b": f"{P1}\n"})
    (cluster,) = result.clusters
    rec = cluster_record(cluster, {d.document.id: d.document.text for d in result.documents})
    assert rec["size"] == 3 and rec["documents"] == 2
    assert rec["canonical"]["text"] == P1
    assert [(m["doc"], m["index"], m["status"]) for m in rec["members"]] == [
        ("a", 0, "canonical"), ("a", 1, "removed"), ("b", 0, "removed")]


def test_line_context_makes_whole_lines() -> None:
    text = "one\ntwo\nthree"
    result = run({"d": f"{P1}\n{text}\n{P1}"})
    doc = result.documents[0]
    (rec,) = edit_records(result.documents, "sha256:0123456789abcdef")
    (edit,) = rec["edits"]
    ctx = edit["lines"]
    assert ctx == {"first": 4, "before": "three", "after": ""}  # the last line goes with the newline before it
    whole = ctx["before"] + edit["old"] + ctx["after"]
    assert doc.document.text.endswith(whole) and whole == f"three\n{P1}"


def test_problem_records_carry_their_kind() -> None:
    from dedup.model import Problem

    (rec,) = edit_records([], "sha256:0123456789abcdef", [Problem("in/bad.txt", "not valid UTF-8", 3)])
    check_records([rec])
    assert rec == {"schema": SCHEMA, "version": 1, "kind": "problem", "source": "in/bad.txt", "line": 3, "offset": None,
                   "problem": "not valid UTF-8"}


def test_a_record_stays_on_one_line_whatever_line_breaks_the_text_holds() -> None:
    line = dumps({"old": "a\x85b\u2028c\u2029d\re\nf"})
    assert line.splitlines() == [line] and json.loads(line)["old"] == "a\x85b\u2028c\u2029d\re\nf"


_SCALARS = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
            | st.floats(allow_nan=False, allow_infinity=False)
            | st.text(alphabet=st.characters(blacklist_categories=()), max_size=12))
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner,
                                                                                           max_size=4), max_leaves=12)


@given(obj=st.dictionaries(st.text(max_size=6), _JSON, max_size=6))
def test_records_are_encoded_as_json_writes_them(obj: dict[str, object]) -> None:
    """orjson writes the lines whenever its text is json's (any finite float, integer and string
    here: tiny floats, integers beyond 64 bits and lone surrogates go through json)."""
    assert _compact(obj) == _COMPACT.encode(obj)


def test_what_orjson_writes_otherwise_goes_through_json() -> None:
    assert _compact({"a": 1e-05, "b": 2.5e-07, "c": -9.3e-05}) == '{"a":1e-05,"b":2.5e-07,"c":-9.3e-05}'
    assert _compact({"n": 2**64, "s": "a\udc80"}) == '{"n":18446744073709551616,"s":"a\udc80"}'
    assert _compact({"t": "0.00001 e-1 and 3e-5", "x": 0.0001}) == '{"t":"0.00001 e-1 and 3e-5","x":0.0001}'
    assert _compact({"s": "".join(map(chr, range(0x80))) + "\u2028\x85é🙂"}) == _COMPACT.encode(
        {"s": "".join(map(chr, range(0x80))) + "\u2028\x85é🙂"})


def _whole_lines(text: str, start: int, end: int, limit: int | None) -> dict[str, object] | None:
    """What ``_Lines.context`` answers, from an index of every newline."""
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]
    first = bisect_right(newlines, start - 1)
    line_start = newlines[first - 1] + 1 if first else 0
    if end > start and text[end - 1] == "\n":
        line_end = end
    else:
        k = bisect_right(newlines, end - 1)
        line_end = newlines[k] + 1 if k < len(newlines) else len(text)
    if limit is not None and (start - line_start) + (line_end - end) > limit:
        return None
    return {"first": first + 1, "before": text[line_start:start], "after": text[end:line_end]}


@given(text=st.text(alphabet="ab \n", max_size=40), cuts=st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)),
                                                                  max_size=8),
       ordered=st.booleans(), limit=st.sampled_from([None, 0, 3]))
def test_line_context_of_spans_in_any_order(text: str, cuts: list[tuple[int, int]], ordered: bool,
                                            limit: int | None) -> None:
    spans = [(min(a, b, len(text)), min(max(a, b), len(text))) for a, b in cuts]
    if ordered:  # as a record asks: by start, spans apart
        spans = sorted(spans)
        spans = [s for k, s in enumerate(spans) if k == 0 or s[0] >= spans[k - 1][1]]
    lines = _Lines(text)
    assert [lines.context(s, e, limit) for s, e in spans] == [_whole_lines(text, s, e, limit) for s, e in spans]
