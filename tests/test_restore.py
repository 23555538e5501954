"""``dedup restore``: the originals back, byte for byte, from cleaned files and edit records alone."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import SAMPLES, SHARED, check_records, records_of, replace_edit, with_edits
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dedup.cli import cli
from dedup.records import DocumentRecord
from dedup.restore import Cleaned, RestoreError, match_records, rebuild

P1 = "The council opened a floating library on the old harbour on Saturday, in a former ferry."
P2 = "The ferry will stay moored at the north pier until October, then move to the river mouth."
P3 = "About eighty visitors fit in the reading room, which has a lift for wheelchair users too."


def write(path: Path, data: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def invoke(*args: str | Path, stdin: bytes | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], input=stdin)


def clean(inputs: list[Path], out: Path, report: Path) -> None:
    result = invoke("clean", *inputs, "-o", out, "--report", report, "-q")
    assert result.exit_code in (0, 3), result.stderr


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    src = tmp_path / "corpus"
    write(src / "a.txt", f"{P1}\n{P2}\n{P1}\n")
    write(src / "sub" / "b.txt", f"{P3}\r\n{P1}\r\n{P2}\r\n")
    write(src / "c.txt", f"{P3}\n\n{P2} Read more: Ten tips for your garden\n\n\u00a0Done\u200b.")
    write(src / "empty.txt", "")
    return src


def test_clean_then_restore_gives_back_every_file(corpus: Path, tmp_path: Path) -> None:
    out, back, report = tmp_path / "out", tmp_path / "back", tmp_path / "out" / "edits.jsonl"
    clean([corpus], out, report)
    assert tree(out)["a.txt"] != tree(corpus)["a.txt"]
    result = invoke("restore", report, out, "-o", back)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "restored 4 of 4 document(s)" in result.stderr
    assert "1 file(s) under CLEANED matched no record" in result.stderr  # the report itself
    assert tree(back) == tree(corpus)


def test_restore_in_place_turns_the_cleaned_folder_back(corpus: Path, tmp_path: Path) -> None:
    out, report = tmp_path / "out", tmp_path / "edits.jsonl"
    clean([corpus], out, report)
    assert invoke("restore", report, out, "-o", out, "-q").exit_code == 0
    assert tree(out) == tree(corpus)


def test_a_cleaned_file_that_changed_is_refused_and_the_others_restored(corpus: Path, tmp_path: Path) -> None:
    out, back, report = tmp_path / "out", tmp_path / "back", tmp_path / "edits.jsonl"
    clean([corpus], out, report)
    write(out / "sub" / "b.txt", (out / "sub" / "b.txt").read_bytes() + b"edited by hand\n")
    result = invoke("restore", report, out, "-o", back)
    assert result.exit_code == 3
    assert f"{out / 'sub' / 'b.txt'}: not the cleaned file the record for {corpus.as_posix()}/sub/b.txt describes" \
        in result.stderr.replace("\n", "")
    assert not (back / "sub" / "b.txt").exists()
    assert (back / "a.txt").read_bytes() == (corpus / "a.txt").read_bytes()
    assert not [p for p in back.rglob("*") if p.name.endswith(".dedup-tmp")]


def test_a_rebuilt_text_with_the_wrong_hash_is_never_written(corpus: Path, tmp_path: Path) -> None:
    out, back, report = tmp_path / "out", tmp_path / "back", tmp_path / "edits.jsonl"
    clean([corpus], out, report)
    records = [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()]
    edit = records[0]["edits"][0]
    edit["old"] = edit["old"].swapcase()  # same length, other text: only the input hash can tell
    tampered = write(tmp_path / "tampered.jsonl", "".join(json.dumps(r) + "\n" for r in records))
    result = invoke("restore", tampered, out, "-o", back)
    assert result.exit_code == 3
    assert "does not have the record's input hash" in result.stderr
    assert not (back / "a.txt").exists() and (back / "c.txt").exists()


def test_files_named_directly_restore_only_their_documents(corpus: Path, tmp_path: Path) -> None:
    out, back, report = tmp_path / "out", tmp_path / "back", tmp_path / "edits.jsonl"
    clean([corpus], out, report)
    result = invoke("restore", report, out / "sub" / "b.txt", "-o", back)
    assert result.exit_code == 0, result.stderr
    assert tree(back) == {"b.txt": (corpus / "sub" / "b.txt").read_bytes()}


def test_a_file_named_directly_without_a_record_is_refused(corpus: Path, tmp_path: Path) -> None:
    out, report = tmp_path / "out", tmp_path / "edits.jsonl"
    clean([corpus / "a.txt"], out, report)
    stray = write(tmp_path / "other.txt", "x")
    result = invoke("restore", report, out / "a.txt", stray, "-o", tmp_path / "back")
    assert result.exit_code == 3
    assert f"{stray}: no record in EDITS describes this file" in result.stderr.replace("\n", "")
    assert (tmp_path / "back" / "a.txt").read_bytes() == (corpus / "a.txt").read_bytes()


def test_a_record_without_its_file_in_the_folder_is_named(corpus: Path, tmp_path: Path) -> None:
    out, back, report = tmp_path / "out", tmp_path / "back", tmp_path / "edits.jsonl"
    clean([corpus], out, report)
    (out / "c.txt").unlink()
    result = invoke("restore", report, out, "-o", back)
    assert result.exit_code == 3
    assert "c.txt: no cleaned file for this document" in result.stderr.replace("\n", "")
    assert (back / "a.txt").exists() and not (back / "c.txt").exists()


def test_standard_input_comes_back_from_stdin_txt(tmp_path: Path) -> None:
    text = f"{P1}\n{P1}\n"
    result = invoke("clean", "-", "-o", tmp_path / "out", "--report", tmp_path / "edits.jsonl", "-q",
                    stdin=text.encode())
    assert result.exit_code == 0 and (tmp_path / "out" / "stdin.txt").exists()
    restored = invoke("restore", tmp_path / "edits.jsonl", tmp_path / "out", "-o", tmp_path / "back")
    assert restored.exit_code == 0, restored.stderr
    assert (tmp_path / "back" / "stdin.txt").read_text(encoding="utf-8") == text


def test_edits_from_stdin_and_problem_records_are_skipped_by_name(tmp_path: Path) -> None:
    src = tmp_path / "in"
    write(src / "a.txt", f"{P1}\n{P1}\n")
    write(src / "bad.txt", b"caf\xe9\n")
    report = tmp_path / "edits.jsonl"
    assert invoke("clean", src, "-o", tmp_path / "out", "--report", report, "-q").exit_code == 3
    result = invoke("restore", "-", tmp_path / "out", "-o", tmp_path / "back", stdin=report.read_bytes())
    assert result.exit_code == 0, result.stderr
    assert "1 input(s) the run could not process have nothing to restore" in result.stderr
    assert tree(tmp_path / "back") == {"a.txt": f"{P1}\n{P1}\n".encode()}


def test_a_bad_line_in_edits_is_named_and_the_rest_restored(corpus: Path, tmp_path: Path) -> None:
    out, report = tmp_path / "out", tmp_path / "edits.jsonl"
    clean([corpus], out, report)
    broken = write(tmp_path / "broken.jsonl", report.read_text(encoding="utf-8") + "{oops\n")
    result = invoke("restore", broken, out, "-o", tmp_path / "back")
    assert result.exit_code == 3
    assert f"{broken}:5: not JSON" in result.stderr.replace("\n", "")
    assert tree(tmp_path / "back") == tree(corpus)


def test_names_in_messages_cannot_drive_the_terminal(tmp_path: Path) -> None:
    src = tmp_path / "in"
    write(src / "\x1b]0;pwned\x07\u202eevil.txt", f"{P1}\n{P1}\n")
    report = tmp_path / "edits.jsonl"
    clean([src], tmp_path / "out", report)
    (tmp_path / "empty-folder").mkdir()
    result = invoke("restore", report, tmp_path / "empty-folder", "-o", tmp_path / "back")
    assert result.exit_code == 3 and "no cleaned file for this document" in result.stderr
    assert "\x1b" not in result.stderr and "\u202e" not in result.stderr and "\\u202eevil.txt" in result.stderr


def test_usage_errors(tmp_path: Path) -> None:
    assert invoke("restore", tmp_path / "e.jsonl", tmp_path).exit_code == 2  # no -o
    assert invoke("restore", tmp_path / "e.jsonl", "-", "-o", tmp_path / "x").exit_code == 2


# -- matching, on the library ------------------------------------------------------------------------


def _records(*docs: tuple[str, str]) -> list[DocumentRecord]:
    """Records of unchanged documents given as (id, text)."""
    results = [with_edits(doc_id, text, []) for doc_id, text in docs]
    return records_of(results).documents


def test_a_tie_between_folders_is_broken_by_the_output_hash(tmp_path: Path) -> None:
    (record,) = _records(("x/a.txt", "first\n"))
    other, mine = write(tmp_path / "o1" / "a.txt", "another run\n"), write(tmp_path / "o2" / "a.txt", "first\n")
    matching = match_records([record], [Cleaned(str(other), "a.txt", False), Cleaned(str(mine), "a.txt", False)])
    assert [m.cleaned.path for m in matching.matches] == [str(mine)] and matching.problems == []


def test_two_documents_that_would_be_restored_to_one_path_are_refused(tmp_path: Path) -> None:
    records = _records(("x/a.txt", "first\n"), ("y/a.txt", "second\n"))
    one, two = write(tmp_path / "o1" / "a.txt", "first\n"), write(tmp_path / "o2" / "a.txt", "second\n")
    matching = match_records(records, [Cleaned(str(one), "a.txt", False), Cleaned(str(two), "a.txt", False)])
    assert matching.matches == []  # refused, not guessed
    assert {p.source for p in matching.problems} == {str(one), str(two)}
    assert "would all be restored to a.txt" in matching.problems[0].message


def test_the_longest_shared_path_wins(tmp_path: Path) -> None:
    records = _records(("corpus/x/a.txt", "first\n"), ("corpus/y/a.txt", "second\n"))
    cleaned = [Cleaned(str(tmp_path / "x" / "a.txt"), "x/a.txt", False),
               Cleaned(str(tmp_path / "y" / "a.txt"), "y/a.txt", False)]
    matching = match_records(records, cleaned)
    assert [(m.record.id, m.cleaned.name) for m in matching.matches] == [
        ("corpus/x/a.txt", "x/a.txt"), ("corpus/y/a.txt", "y/a.txt")]
    assert matching.problems == []


def test_several_records_for_one_document_are_refused(tmp_path: Path) -> None:
    (rec,) = _records(("a.txt", "text\n"))
    matching = match_records([rec, rec], [Cleaned(str(tmp_path / "a.txt"), "a.txt", False)])
    assert matching.matches == [] and "several records" in matching.problems[0].message


def test_rebuild_undoes_text_fixes_too() -> None:
    text = "Caf\u00c3\u00a9 au lait\u200b, twice.\nSecond line.\n"
    doc = with_edits("d.txt", text, [replace_edit(text, "\u00c3\u00a9", "\u00e9", "mojibake"),
                                     replace_edit(text, "\u200b", "")])
    (rec,) = records_of([doc]).documents
    assert rebuild(rec, doc.cleaned.encode("utf-8")) == text.encode("utf-8")
    with pytest.raises(RestoreError, match="not the cleaned file"):
        rebuild(rec, text.encode("utf-8"))


# -- properties and the whole development corpus ------------------------------------------------------

LINES = [P1, P2, P3, f"{P1} …", f"{P2} Read more: Boats", "Summary", "- item", "\u00a0", "\u202eevil\u202c", "x\u200by"]


@st.composite
def files(draw: st.DrawFn) -> dict[str, bytes]:
    """A few documents of repeated and unique lines, with any line ends, as bytes."""
    names = draw(st.lists(st.sampled_from(["a.txt", "b.txt", "d/c.txt", "d/e/f.txt"]), min_size=1, max_size=4,
                          unique=True))
    out: dict[str, bytes] = {}
    for name in names:
        lines = draw(st.lists(st.one_of(st.sampled_from(LINES), st.text(max_size=30)), max_size=8))
        sep = draw(st.sampled_from(["\n", "\n\n", "\r\n", "\r"]))
        end = draw(st.sampled_from(["", sep]))
        out[name] = (sep.join(lines) + end).encode("utf-8", "surrogatepass")
    return out


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(files())
def test_clean_then_restore_is_the_identity(docs: dict[str, bytes]) -> None:
    docs = {k: v for k, v in docs.items() if _utf8(v)}  # the others are problems for clean, not documents
    assume(docs)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, data in docs.items():
            write(root / "in" / name, data)
        clean([root / "in"], root / "out", root / "edits.jsonl")
        check_records((root / "edits.jsonl").read_text(encoding="utf-8"))
        result = invoke("restore", root / "edits.jsonl", root / "out", "-o", root / "back", "-q")
        assert result.exit_code == 0, result.stderr
        assert tree(root / "back") == docs


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return b"\0" not in data


def test_every_sample_comes_back(tmp_path: Path) -> None:
    inputs = sorted(SAMPLES.glob("*/input"))
    clean(inputs, tmp_path / "out", tmp_path / "edits.jsonl")
    assert invoke("restore", tmp_path / "edits.jsonl", tmp_path / "out", "-o", tmp_path / "back").exit_code == 0
    for folder in inputs:
        for path in folder.iterdir():
            assert (tmp_path / "back" / path.name).read_bytes() == path.read_bytes()


@pytest.mark.slow
def test_the_whole_development_corpus_comes_back_byte_for_byte(tmp_path: Path) -> None:
    corpus = SHARED / "eval-dev" / "corpus"
    if not corpus.is_dir():
        pytest.skip(f"development corpus not found at {corpus}")
    out, back, report = tmp_path / "out", tmp_path / "back", tmp_path / "edits.jsonl"
    clean([corpus], out, report)
    originals = tree(corpus)
    assert tree(out) != originals  # something was cleaned
    result = invoke("restore", report, out, "-o", back)
    assert result.exit_code == 0, result.stderr
    assert f"restored {len(originals)} of {len(originals)}" in result.stderr
    restored = tree(back)
    assert sorted(restored) == sorted(originals)
    for name, data in originals.items():
        assert restored[name] == data, name
    assert os.listdir(back)  # and nothing else was written
