"""The HTML report as a file: self-contained, a strict CSP that admits only its own script and
style, scraped text escaped everywhere, and data the script can read back exactly."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from conftest import HOSTILE_LINES, REPO, hostile_records, records_of, run

from dedup.render.html import csp_hash, h, render_html, report_data, script_json
from dedup.render.summary import summarize

P1 = "The council opened a floating library on the old harbour on Saturday, in a former ferry."


class _Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each script and style element."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.raw: list[tuple[str, dict[str, str | None], list[str]]] = []  # script and style elements
        self.inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.inside = tag in ("script", "style")
        if self.inside:
            self.raw.append((tag, dict(attrs), []))

    def handle_endtag(self, tag: str) -> None:
        self.inside = False

    def handle_data(self, data: str) -> None:
        if self.inside:
            self.raw[-1][2].append(data)

    def elements(self, tag: str) -> list[tuple[dict[str, str | None], str]]:
        return [(attrs, "".join(text)) for t, attrs, text in self.raw if t == tag]


def _page() -> tuple[str, _Tags]:
    records = hostile_records()
    page = render_html(summarize(records), records.documents)
    parser = _Tags()
    parser.feed(page)
    return page, parser


def test_the_csp_admits_exactly_the_inline_script_and_style() -> None:
    page, parser = _page()
    (meta,) = [a for t, a in parser.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    csp = meta["content"] or ""
    assert csp.startswith("default-src 'none';")
    (code,) = [text for attrs, text in parser.elements("script") if "type" not in attrs]
    ((_, style),) = parser.elements("style")
    assert "addEventListener" in code and "body" in style
    assert f"script-src {csp_hash(code)};" in csp
    assert f"style-src {csp_hash(style)};" in csp
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp
    assert page.index("Content-Security-Policy") < page.index("<style>") < page.index("<script")


def test_the_page_is_self_contained() -> None:
    page, parser = _page()
    for tag, attrs in parser.tags:
        assert tag not in ("link", "iframe", "object", "embed", "base", "img"), tag
        assert "src" not in attrs and "href" not in attrs, (tag, attrs)
        assert not any(name.startswith("on") for name in attrs), (tag, attrs)
    assert not re.search(r"(?i)(https?:)?//[a-z]", page.replace("https://evil.example", ""))


def test_scraped_text_is_escaped_everywhere() -> None:
    page, parser = _page()
    assert [t for t, _ in parser.tags].count("script") == 2  # the data and the page's own script
    assert "\u202e" not in page and "\u200b" not in page and "\x1b" not in page
    assert "&lt;img src=x onerror=" in page  # the hostile document id, shown in the summary as text
    assert '<span class="inv">RLO</span>' in page and 'data-id="evil/&lt;img src=x onerror=&quot;' in page


def test_the_embedded_data_reads_back_exactly() -> None:
    records = hostile_records()
    page = render_html(summarize(records), records.documents)
    raw = page.split('<script type="application/json" id="dedup-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in raw and ">" not in raw and "&" not in raw
    data = json.loads(raw)
    assert data == json.loads(json.dumps(report_data(records.documents)))
    texts = set(data["texts"])
    for line in HOSTILE_LINES:
        assert line in texts  # the kept copy, exactly


def test_repeated_texts_are_stored_once_and_differences_listed() -> None:
    records = records_of(run({"a.txt": f"{P1}\n{P1}\n{P1.replace('old', 'olld')}\n"}).documents)
    data = report_data(records.documents)
    assert data["texts"].count(P1) == 1
    exact, near = data["docs"][0]["e"]
    assert exact["d"] == [] and exact["a"] == exact["b"]
    assert near["d"] == [["d", 47, 48, 47, 47]]  # "olld" has one "l" the kept "old" lacks


def test_helpers() -> None:
    assert h("<b>&\u00a0") == '&lt;b&gt;&amp;<span class="inv">NBSP</span>'
    assert script_json({"a": "</script><!--"}) == '{"a":"\\u003c/script\\u003e\\u003c!--"}'


def test_the_readme_shows_a_screenshot_of_a_real_report() -> None:
    shot = REPO / "docs" / "report-html.png"  # made by scripts/report-screenshot
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "docs/report-html.png" in (REPO / "README.md").read_text(encoding="utf-8")
