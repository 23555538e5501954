"""The terminal view: scraped text never becomes escape sequences or rich markup."""

from __future__ import annotations

import re

from conftest import HOSTILE_ID, hostile_records, records_of, run

from dedup.render.report import render_report, select
from dedup.render.terminal import safe

P1 = "The council opened a floating library on the old harbour on Saturday, in a former ferry."
SGR = re.compile(r"\x1b\[[0-9;]*m")  # the colours rich itself writes


def test_safe_strips_escapes_and_labels_invisible_characters() -> None:
    text = safe("a\x1b[31mred\x1b[0m \x1b]0;title\x07b\u202ec\u00a0d\x07e\r[bold]x[/bold]")
    assert text.plain == "ared b⟨RLO⟩c⟨NBSP⟩d⟨BEL⟩e⟨CR⟩[bold]x[/bold]"
    assert not text.spans or all(span.style == "reverse dim" for span in text.spans)


def test_summary_view() -> None:
    out = render_report(records_of(run({"a.txt": f"{P1}\n{P1}\n"}).documents), "term").text
    assert "dedup report" in out and "1 (1 changed)" in out and "exact 1" in out and "a.txt" in out


def test_one_document_in_colour_carries_no_escape_from_the_text() -> None:
    records = select(hostile_records(), [HOSTILE_ID, "evil/fix.txt"])
    out = render_report(records, "term", one_by_one=True, color=True, width=120).text
    assert SGR.search(out)  # coloured
    plain = SGR.sub("", out)
    assert "\x1b" not in plain and "\x07" not in plain and "\u202e" not in plain
    assert "[bold red]not markup[/bold red]" in plain and "⟨RLO⟩" in plain and "⟨NBSP⟩" in plain
    assert "removed" in plain and "kept" in plain and "score 1.00" in plain
    assert "line 1  replace <b>rule</b>" not in plain and "replace <b>rule</b>" in plain


def test_without_colour_the_view_is_plain_text() -> None:
    out = render_report(select(hostile_records(), [HOSTILE_ID]), "term", one_by_one=True).text
    assert "\x1b" not in out and "[bold]" in out
