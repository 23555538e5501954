"""The unified diff: git-style headers, -U0 hunks made from the records alone, and it applies."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import hostile_records, records_of, replace_edit, run, with_edits

from dedup.records import Records, read_records
from dedup.render.diff import DiffError, document_diff, render_diff
from dedup.render.jsonl import dumps, edit_records

P1 = "The council opened a floating library on the old harbour on Saturday, in a former ferry."
P2 = "The ferry will stay moored at the north pier until October, then move to the river mouth."
P3 = "About eighty visitors fit in the reading room, which has a lift for wheelchair users too."

TEXTS = {
    "a.txt": f"{P1}\n{P2}\n{P1}\n",
    "end-no-newline.txt": f"{P3}\n{P2}\n{P3}",
    "crlf.txt": f"{P2}\r\n{P3}\r\n{P2}\r\n{P3}\r\n",
    "blocks.txt": f"{P1}\n\n{P3}\n\n  {P1}\n\nThe end.\n",
    "sub dir/quote\".txt": f"Title\n{P2}\n{P2} Read more: Boats\n",
}


FIXED = "Caf\u00c3\u00a9 au lait\u200b and caf\u00c3\u00a9 again.\nNext line\u00a0here.\nLast"


def _records() -> Records:
    """The documents of TEXTS cleaned, and FIXED with text fixes (two on one line, one adding a newline)."""
    result = run(TEXTS, scope="document")
    fixed = FIXED
    fix = with_edits("fixes.txt", fixed, [
        replace_edit(fixed, "\u00c3\u00a9", "\u00e9", "mojibake"),
        replace_edit(fixed, "\u200b", "", "invisible"),
        replace_edit(fixed, "\u00c3\u00a9", "\u00e9", "mojibake", after=12),
        replace_edit(fixed, "\u00a0", " ", "whitespace"),
        replace_edit(fixed, "Last", "Last\n", "whitespace"),
    ])
    return records_of([*result.documents, fix])


def test_a_removal_is_a_hunk_of_whole_lines() -> None:
    records = records_of(run({"a.txt": f"{P1}\n{P2}\n{P1}\n{P3}\n"}).documents)
    assert document_diff(records.documents[0]) == (
        "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n"
        f"@@ -3 +2,0 @@\n-{P1}\n"
    )


def test_the_last_line_without_a_newline_is_marked() -> None:
    records = records_of(run({"e.txt": f"{P3}\n{P2}\n{P3}"}).documents)
    diff = document_diff(records.documents[0])
    assert diff.endswith(f"@@ -2,2 +2 @@\n-{P2}\n-{P3}\n\\ No newline at end of file\n+{P2}\n"
                         "\\ No newline at end of file\n")


def test_unchanged_documents_have_no_diff() -> None:
    records = records_of(run({"u.txt": f"{P1}\n{P2}\n"}).documents)
    assert render_diff(records.documents) == ("", [])


def test_paths_that_would_break_the_header_are_quoted() -> None:
    records = records_of(run({"a\nb\"c.txt": f"{P1}\n{P1}\n"}).documents)
    assert document_diff(records.documents[0]).startswith('diff --git "a/a\\nb\\"c.txt" "b/a\\nb\\"c.txt"\n')


def test_a_record_without_line_context_cannot_be_shown() -> None:
    (obj,) = edit_records(run({"a.txt": f"{P1}\n{P1}\n"}).documents, "sha256:0123456789abcdef")
    for edit in obj["edits"]:
        del edit["lines"]
    records = read_records([dumps(obj)], "old.jsonl")
    text, errors = render_diff(records.documents)
    assert text == "" and len(errors) == 1 and isinstance(errors[0], DiffError)
    assert "a.txt: the record has no line context" in str(errors[0])


def test_every_line_of_a_hostile_diff_has_its_prefix() -> None:
    text, errors = render_diff(hostile_records().documents)
    assert not errors
    for line in text.split("\n")[:-1]:
        assert line.startswith(("diff --git ", "--- ", "+++ ", "@@ ", "-", "+", "\\ No newline")), repr(line)


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_the_diff_applies_to_the_originals_and_gives_the_cleaned_files(tmp_path: Path) -> None:
    records = _records()
    result = run(TEXTS, scope="document")
    originals = {d.document.id: d.document.text for d in result.documents} | {"fixes.txt": FIXED}
    cleaned = {d.document.id: d.cleaned for d in result.documents}
    cleaned["fixes.txt"] = "Caf\u00e9 au lait and caf\u00e9 again.\nNext line here.\nLast\n"
    assert sum(cleaned[k] != originals[k] for k in originals) == len(originals)  # every file changes
    for name, text in originals.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(text.encode("utf-8"))
    diff, errors = render_diff(records.documents)
    assert not errors
    patch = tmp_path / "changes.diff"
    patch.write_bytes(diff.encode("utf-8"))
    done = subprocess.run(["git", "apply", "--unidiff-zero", "--whitespace=nowarn", str(patch)], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    for name, text in cleaned.items():
        assert (tmp_path / name).read_bytes() == text.encode("utf-8"), name
