"""Edit records: the shipped JSON Schema, and reading EDITS files back into typed records."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import SAMPLES, VALIDATOR, check_records, records_of, replace_edit, run, with_edits
from jsonschema import Draft202012Validator

from dedup.apply import restore
from dedup.model import REMOVE, REPLACE, Problem
from dedup.records import load_records, read_records, schema
from dedup.render.jsonl import dumps, edit_records

P1 = "The council opened a floating library on the old harbour on Saturday, in a former ferry."
P2 = "The ferry will stay moored at the north pier until October, then move to the river mouth."


def _record(text: str = f"{P1}\n{P2}\n{P1}\n") -> dict[str, Any]:
    result = run({"in/a.txt": text})
    (rec,) = edit_records(result.documents, result.settings.fingerprint())
    return json.loads(dumps(rec))  # type: ignore[no-any-return]


def test_the_schema_is_a_valid_json_schema_shipped_in_the_package() -> None:
    Draft202012Validator.check_schema(schema())
    assert schema()["$id"] == "urn:dedup:schema:edits:1"


def test_every_golden_record_matches_the_schema() -> None:
    for path in sorted(SAMPLES.glob("*/expected/edits.jsonl")):
        assert check_records(path.read_text(encoding="utf-8")), path


def test_text_fixes_and_problems_match_the_schema() -> None:
    text = "Caf\u00e9 au lait\u200b in the harbour.\nA second line.\n"
    doc = with_edits("in/fix.txt", text, [replace_edit(text, "\u200b", "")])
    records = records_of([doc], [Problem("in/bad.txt", "not valid UTF-8 (byte 0xe9 at offset 3); skipped", 1)])
    (rec,) = records.documents
    (edit,) = rec.edits
    assert edit.edit.op == REPLACE and edit.edit.kept == () and edit.lines is not None
    assert edit.lines.before == "Caf\u00e9 au lait" and edit.lines.after == " in the harbour.\n"
    assert records.problems == [Problem("in/bad.txt", "not valid UTF-8 (byte 0xe9 at offset 3); skipped", 1)]


@pytest.mark.parametrize("change", [
    lambda r: r["edits"][0].update(new="x"),  # a removal leaves nothing
    lambda r: r["edits"][0].update(kept=[]),  # a removal names its kept copy
    lambda r: r["edits"][0].update(op="move"),
    lambda r: r.update(version=2),
    lambda r: r["input"].update(sha256="abc"),
    lambda r: r.update(extra=1),
    lambda r: r["edits"][0].pop("lines"),
])
def test_the_schema_rejects_what_the_tools_do_not_write(change: Any) -> None:
    rec = _record()
    assert VALIDATOR.is_valid(rec)
    change(rec)
    assert not VALIDATOR.is_valid(rec)


def test_a_replace_edit_has_no_kept_copy_cluster_or_score() -> None:
    text = "A line with a\u00a0no-break space.\n"
    doc = with_edits("d", text, [replace_edit(text, "\u00a0", " ", rule="whitespace")])
    (rec,) = edit_records([doc], "sha256:0123456789abcdef")
    rec = json.loads(dumps(rec))
    assert VALIDATOR.is_valid(rec)
    rec["edits"][0]["score"] = 0.5
    assert not VALIDATOR.is_valid(rec)


def test_records_read_back_into_the_edits_that_restore_the_input() -> None:
    text = f"{P1}\n{P2}\n{P1}\n"
    result = run({"in/a.txt": text})
    records = records_of(result.documents)
    (doc,) = records.documents
    assert doc.id == "in/a.txt" and doc.input.chars == len(text) and doc.changed
    assert [e.edit for e in doc.edits] == list(result.documents[0].edits)
    assert restore(result.documents[0].cleaned, [e.edit for e in doc.edits]) == text
    (edit,) = doc.edits
    assert edit.edit.op == REMOVE and edit.kept_text == (P1,) and edit.paragraph_text == P1
    assert edit.counterpart == P1 and doc.share_removed == pytest.approx((len(P1) + 1) / len(text))


def test_records_without_a_kind_are_still_read() -> None:
    rec = _record()
    del rec["kind"]
    problem = {"problem": "binary file", "source": "x.bin", "line": None}
    records = read_records([json.dumps(rec), "", json.dumps(problem)], "old.jsonl")
    assert len(records.documents) == 1 and records.problems == [Problem("x.bin", "binary file")]
    assert records.errors == []


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "not JSON"),
    ('["a list"]', "expected an object"),
    ('{"kind": "elephant"}', "unknown record kind"),
    ('{"schema": "other", "version": 1, "kind": "document"}', "not a dedup.edits record"),
])
def test_unreadable_lines_are_errors_that_name_file_and_line(line: str, message: str) -> None:
    records = read_records([json.dumps(_record()), line], "edits.jsonl")
    assert len(records.documents) == 1
    (error,) = records.errors
    assert error.source == "edits.jsonl" and error.line == 2 and message in error.message


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r.update(version=2), "this dedup reads version 1"),
    (lambda r: r.update(offsets="utf-16"), "offsets"),
    (lambda r: r["edits"][0].update(output=[0, 0]), "output spans"),
    (lambda r: r["edits"][0].update(old="short"), "'old' has 5 characters"),
    (lambda r: r["output"].update(chars=1), "lengths"),
    (lambda r: r["edits"][0].update(input=[9, 3]), "start <= end"),
    (lambda r: r["edits"][0].pop("op"), "missing 'op'"),
])
def test_records_that_do_not_add_up_are_refused(change: Any, message: str) -> None:
    rec = _record()
    change(rec)
    records = read_records([json.dumps(rec)], "edits.jsonl")
    assert records.documents == []
    assert message in records.errors[0].message


def test_a_missing_edits_file_is_an_error() -> None:
    records = load_records("/nonexistent/edits.jsonl")
    assert records.documents == [] and records.errors[0].source == "/nonexistent/edits.jsonl"


def test_bytes_that_are_not_utf8_are_an_error() -> None:
    records = read_records([b'{"a": "\xe9"}'], "e.jsonl")
    assert "not valid UTF-8" in records.errors[0].message
