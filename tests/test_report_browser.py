"""The HTML report in a real headless browser (Debian's chromium, installed by scripts/test):
it renders, runs no script from the scraped text, and its filters and pages work."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import Browser, find_chromium
from conftest import SCRIPT, hostile_records, records_of, run

from dedup.records import Records
from dedup.render.html import render_html
from dedup.render.summary import summarize

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/test installs it)")

BOILER = "Sign up for our newsletter to get the latest headlines delivered to your inbox every day."
TAIL = f"{BOILER} Read more: Ten tips for your garden"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM is not None
    with Browser(CHROMIUM) as b:
        b.call("Log.enable")
        yield b


def _open(browser: Browser, records: Records, path: Path) -> None:
    path.write_text(render_html(summarize(records), records.documents), encoding="utf-8")
    browser.open(path)


def _ids(browser: Browser) -> list[str]:
    ids: list[str] = browser.evaluate("Array.from(document.querySelectorAll('#docs article .id'))"
                                      ".map(e => e.textContent)")
    return ids


def _set(browser: Browser, element: str, value: Any) -> str:
    """Set a control as a user would (input and change events); the status line after it."""
    prop = "checked" if isinstance(value, bool) else "value"
    status: str = browser.evaluate(
        f"(() => {{ const e = document.getElementById({json.dumps(element)}); e.{prop} = {json.dumps(value)};"
        "e.dispatchEvent(new Event('input')); e.dispatchEvent(new Event('change'));"
        "return document.getElementById('status').textContent; })()")
    return status


def test_a_hostile_report_renders_and_runs_nothing_from_the_text(browser: Browser, tmp_path: Path) -> None:
    _open(browser, hostile_records(), tmp_path / "hostile.html")
    assert browser.evaluate("document.title") == "dedup report"
    assert browser.evaluate("typeof window.pwned") == "undefined"
    assert browser.evaluate("document.querySelectorAll('img, iframe, object, embed, a').length") == 0
    assert browser.evaluate("document.querySelector('h2').textContent") == "Summary"
    assert len(_ids(browser)) == 2  # the script ran (its CSP hash is right) and shows both documents
    shown: str = browser.evaluate("document.getElementById('docs').textContent")
    assert SCRIPT in shown and "[bold red]not markup[/bold red]" in shown  # as text
    labels = set(browser.evaluate("Array.from(document.querySelectorAll('#docs .inv')).map(e => e.textContent)"))
    assert {"RLO", "PDF", "LRI", "PDI", "NBSP", "ZWSP", "SHY", "BOM", "ESC", "BEL"} <= labels
    assert not browser.evaluate("document.body.innerText.includes('\\u202e')")
    assert browser.evaluate("document.querySelectorAll('#docs mark.del').length") > 0  # the doubled space
    messages = browser.console_messages()
    assert not [m for m in messages if "Content Security Policy" in m or "Refused" in m], messages


def _corpus() -> Records:
    texts: dict[str, str] = {}
    for i in range(120):
        own = f"Report {i} describes the harbour works of week {i} in some detail for our readers."
        texts[f"doc-{i:03d}.txt"] = (f"{BOILER}\n" if 100 <= i < 110
                                     else f"{own}\n{TAIL if 1 <= i < 6 else BOILER}\n")
    return records_of(run(texts).documents)


def test_filters_and_pages(browser: Browser, tmp_path: Path) -> None:
    _open(browser, _corpus(), tmp_path / "corpus.html")
    assert browser.evaluate("document.getElementById('status').textContent") == \
        "119 of 120 documents · page 1 of 3"
    assert len(_ids(browser)) == 50 and _ids(browser)[0] == "doc-001.txt"
    browser.evaluate("document.getElementById('next').click()")
    assert _ids(browser)[0] == "doc-051.txt"
    browser.evaluate("document.getElementById('next').click()")
    assert len(_ids(browser)) == 19
    assert browser.evaluate("document.getElementById('next').disabled")

    assert _set(browser, "f-q", "DOC-04") == "10 of 120 documents · page 1 of 1"
    assert _ids(browser) == [f"doc-{i:03d}.txt" for i in range(40, 50)]
    _set(browser, "f-q", "")
    assert _set(browser, "f-rule", "tail").startswith("5 of 120")
    assert _ids(browser) == [f"doc-{i:03d}.txt" for i in range(1, 6)]
    _set(browser, "f-rule", "")
    assert _set(browser, "f-share", "90").startswith("10 of 120")
    _set(browser, "f-share", "")
    assert _set(browser, "f-changed", False) == "120 of 120 documents · page 1 of 3"
    assert _set(browser, "f-sort", "share").startswith("120 of 120")
    assert _ids(browser)[0] == "doc-100.txt"

    browser.evaluate("document.querySelector('button.goto[data-id=\"doc-103.txt\"]').click()")
    assert _ids(browser) == ["doc-103.txt"]

