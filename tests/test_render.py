import json

from conftest import check_records, run

from dedup.render.jsonl import OFFSETS, SCHEMA, cluster_record, dumps, edit_record, edit_records, sha256

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
