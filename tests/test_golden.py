"""Golden cases under samples/: each case's input/ cleans to its expected/ files and report."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import SAMPLES, check_records

from dedup.apply import restore
from dedup.cli import cli

CASES = sorted(p.name for p in SAMPLES.iterdir() if (p / "input").is_dir())


def _clean_case(case: str, out: Path) -> list[dict[str, Any]]:
    cwd = os.getcwd()
    os.chdir(SAMPLES / case)  # document ids in the golden report are relative to the case
    try:
        result = CliRunner().invoke(cli, ["clean", "input", "-o", str(out), "--report", str(out / "edits.jsonl"), "-q"])
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in (out / "edits.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("case", CASES)
def test_case_matches_expected_output_and_report(case: str, tmp_path: Path) -> None:
    records = _clean_case(case, tmp_path)
    expected_dir = SAMPLES / case / "expected"
    for src in sorted((SAMPLES / case / "input").iterdir()):
        assert (tmp_path / src.name).read_bytes() == (expected_dir / src.name).read_bytes(), src.name
    expected = check_records((expected_dir / "edits.jsonl").read_text(encoding="utf-8"))
    for rec in records + expected:
        rec.pop("tool")
    assert records == expected


def test_seed_comes_back_as_its_first_six_lines(tmp_path: Path) -> None:
    seed = (SAMPLES / "body-captured-twice.fr" / "input" / "article.txt").read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, ["clean", "-", "-q"], input=seed.encode())
    lines = seed.split("\n")
    assert len(lines) == 11 and lines[6:] == lines[1:6]
    assert "Etats- Unis" in seed  # a hyphenated word broken by a space, fixed on the way
    assert result.stdout == "\n".join(lines[:6]).replace("Etats- Unis", "Etats-Unis")
    raw = CliRunner().invoke(cli, ["clean", "-", "-q", "--no-fix"], input=seed.encode())
    assert raw.stdout == "\n".join(lines[:6])


def test_all_samples_at_once_give_the_same_outputs(tmp_path: Path) -> None:
    inputs = [str(SAMPLES / case / "input") for case in CASES]
    result = CliRunner().invoke(cli, ["clean", *inputs, "-o", str(tmp_path), "-q"])
    assert result.exit_code == 0
    for case in CASES:
        for src in (SAMPLES / case / "input").iterdir():
            assert (tmp_path / src.name).read_bytes() == (SAMPLES / case / "expected" / src.name).read_bytes()


@pytest.mark.parametrize("case", CASES)
def test_report_restores_the_input(case: str, tmp_path: Path) -> None:
    from dedup.model import REMOVE, Edit, ParagraphRef

    for rec in _clean_case(case, tmp_path):
        doc_id = str(rec["document"]["id"])
        cleaned = (tmp_path / Path(doc_id).name).read_bytes().decode("utf-8")  # no newline translation
        edits = [Edit(REMOVE, e["input"][0], e["input"][1], e["old"], e["new"], e["rule"], e["reason"],
                      ParagraphRef(doc_id, 0, 0, 0), (), 0, 0.0, None) for e in rec["edits"]]
        original = (SAMPLES / case / doc_id).read_bytes().decode("utf-8")
        assert restore(cleaned, edits) == original
