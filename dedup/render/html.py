"""One self-contained HTML report (``dedup report --format html``).

The summary is plain HTML rendered here; the documents are embedded as JSON in a
``<script type="application/json">`` element and shown by one small inline script
(``assets/report.js``) that filters them (document id, rule, share removed) and pages through
them, so the file stays light for runs over 10,000 documents: repeated texts (boilerplate and
its kept copy) are stored once, and only the characters that differ are listed.

Nothing in it reaches the network, and no scraped text can run: every text is escaped here or
inserted with ``textContent`` by the script; the JSON cannot close its element (``<``, ``>``
and ``&`` are written as ``\\u003c``...); and a Content-Security-Policy allows no source at all
but the exact inline script and style, by their sha256. Invisible characters are shown as labels.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence
from html import escape
from importlib import resources
from typing import Any

from dedup import __version__
from dedup.model import REMOVE
from dedup.records import DocumentRecord, RecordedEdit
from dedup.render.summary import ClusterSummary, Summary, percent
from dedup.render.text import INVISIBLE, NAMES, char_diff, excerpt, js_pattern, visible_runs

PAGE_SIZE = 50
_TAGS = {"replace": "r", "delete": "d", "insert": "i"}


def _asset(name: str) -> str:
    return resources.files("dedup.render").joinpath("assets", name).read_text(encoding="utf-8")


def csp_hash(source: str) -> str:
    """The CSP source expression that allows exactly this inline script or style."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


def h(text: str) -> str:
    """Scraped text as HTML: escaped, invisible characters as labels."""
    out = []
    for run, is_label in visible_runs(text):
        if is_label:
            out.append(f'<span class="inv">{escape(run)}</span>')
        else:
            out.append(escape(run))
    return "".join(out)


def attr(text: str) -> str:
    """Text for an attribute value: escaped, invisible characters as character references (the
    value is the same text; the page source holds no invisible character)."""
    return INVISIBLE.sub(lambda m: f"&#x{ord(m.group()):X};", escape(text, quote=True))


def script_json(data: object) -> str:
    """JSON that is safe inside a ``<script>`` element: it cannot end the element or open a
    comment, and invisible characters are written as escapes, so not even the page source
    holds a bidi control that could reorder it."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return INVISIBLE.sub(lambda m: json.dumps(m.group())[1:-1], text)


class _Texts:
    """Interned strings: each distinct text is stored once in the embedded data."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.texts: list[str] = []

    def __call__(self, text: str) -> int:
        n = self.index.get(text)
        if n is None:
            n = self.index[text] = len(self.texts)
            self.texts.append(text)
        return n


def _edit_data(rec: RecordedEdit, texts: _Texts) -> dict[str, Any]:
    e = rec.edit
    left, right = rec.paragraph_text, rec.counterpart
    return {
        "op": e.op, "rule": e.rule, "reason": e.reason,
        "line": rec.lines.first if rec.lines else None,
        "para": e.paragraph.index if e.paragraph else None,
        "a": texts(left), "b": texts(right),
        "kept": [[texts(k.doc), k.index] for k in e.kept],
        "cluster": e.cluster, "score": e.score, "est": e.estimate,
        "d": [[_TAGS[tag], *span] for tag, *span in char_diff(left, right)],
    }


def report_data(docs: Sequence[DocumentRecord]) -> dict[str, Any]:
    """What the script shows: every document with its edits, and the texts they refer to."""
    texts = _Texts()
    out = [{"id": d.id, "in": d.input.chars, "out": d.output.chars, "share": round(d.share_removed, 4),
            "e": [_edit_data(rec, texts) for rec in d.edits]} for d in docs]
    rules = sorted({rec.edit.rule for d in docs for rec in d.edits})
    return {"page": PAGE_SIZE, "inv": {"re": js_pattern(), "names": NAMES}, "rules": rules,
            "docs": out, "texts": texts.texts}


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: str) -> str:
    """A table of already-escaped cells; ``numeric`` has ``n`` for right-aligned columns."""
    def cls(i: int) -> str:
        return ' class="n"' if numeric[i] == "n" else ' class="t"' if numeric[i] == "t" else ""

    head = "".join(f"<th{cls(i)}>{c}</th>" for i, c in enumerate(header))
    body = "".join("<tr>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _doc_button(doc_id: str) -> str:
    return f'<button type="button" class="goto" data-id="{attr(doc_id)}">{h(doc_id)}</button>'


def _bar(n: int, most: int, width: int = 220) -> str:
    w = round(width * n / most) if most else 0
    return f'<svg class="bar" width="{width}" height="12" aria-hidden="true"><rect width="{w}" height="12"/></svg>'


def _clusters(clusters: Sequence[ClusterSummary]) -> str:
    rows = [[str(c.id), f"{c.paragraphs:,}", f"{c.documents:,}", f"{c.removed:,}",
             _doc_button(c.kept_doc) + f" ¶{c.kept_index}", h(excerpt(c.text, 120))] for c in clusters]
    return _table(["cluster", "paragraphs", "documents", "removed", "kept copy", "text"], rows, "nnnntt")


def summary_html(s: Summary) -> str:
    parts = ['<div class="grid"><section><h2>Summary</h2>']
    parts.append(_table(["", ""], s.overview(), "-t"))
    if s.by_rule:
        rows = [[r.op, h(r.rule), f"{r.edits:,}", f"{r.documents:,}", f"{r.chars:,}"] for r in s.by_rule]
        parts.append(_table(["operation", "rule", "edits", "documents", "characters removed"], rows, "--nnn"))
    if s.by_reason:
        parts.append('<p class="muted">Removals by reason: '
                     + ", ".join(f"{h(reason)} {n:,}" for reason, n in s.by_reason) + "</p>")
    parts.append("</section><section><h2>Share of each document removed</h2>")
    most = max((n for _, n in s.distribution), default=0)
    parts.append(_table(["share removed", "documents", ""],
                        [[name, f"{n:,}", _bar(n, most)] for name, n in s.distribution], "-n-"))
    parts.append("</section></div>")
    if s.most_lost:
        parts.append('<h2>Documents that lost the most</h2><p class="muted">A document that lost most of its '
                     "text is usually a scraper failure: worth a look. Click one to see its edits.</p>")
        rows = [[_doc_button(d.id), percent(d.share_removed), f"{d.chars_removed:,}", f"{d.input.chars:,}",
                 f"{sum(e.edit.op == REMOVE for e in d.edits):,}"] for d in s.most_lost]
        parts.append(_table(["document", "removed", "characters removed", "of", "paragraphs removed"], rows, "tnnnn"))
    if s.largest_clusters:
        parts.append("<h2>Largest clusters</h2>" + _clusters(s.largest_clusters))
        parts.append("<h2>Clusters across documents</h2>")
        if s.cross_clusters:
            parts.append(f'<p class="muted">{s.cross_documents:,} cluster(s) span more than one document '
                         "(boilerplate, syndicated copies); the widest:</p>" + _clusters(s.cross_clusters))
        else:
            parts.append('<p class="muted">None: every removal matched a copy in its own document.</p>')
    if s.problems:
        items = "".join(f"<li>{h(p.source)}{'' if p.line is None else f' line {p.line}'}: {h(p.message)}</li>"
                        for p in s.problems)
        parts.append(f"<h2>Inputs not processed</h2><ul>{items}</ul>")
    return "\n".join(parts)


_BROWSER = """<section id="browser" hidden>
<h2>Documents</h2>
<div class="controls">
<label>document <input type="search" id="f-q" placeholder="part of the id" autocomplete="off"></label>
<label>rule <select id="f-rule"><option value="">any</option></select></label>
<label>removed at least <input type="number" id="f-share" min="0" max="100" step="1" placeholder="0">%</label>
<label><input type="checkbox" id="f-changed" checked> changed only</label>
<label>order <select id="f-sort"><option value="id">by id</option><option value="share">most removed first</option>
</select></label>
<span id="status"></span>
</div>
<div id="docs"></div>
<div class="pager"><button type="button" id="prev">‹ previous</button>
<button type="button" id="next">next ›</button></div>
</section>
<noscript><p class="muted">The document list needs JavaScript; the summary above is complete without it.</p>
</noscript>"""


def render_html(summary: Summary, docs: Sequence[DocumentRecord], title: str = "dedup report") -> str:
    """The whole page: summary, document browser, data and script."""
    script, style = _asset("report.js"), _asset("report.css")
    csp = (f"default-src 'none'; script-src {csp_hash(script)}; style-src {csp_hash(style)}; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    tools = ", ".join(summary.tools) or f"dedup {__version__}"
    settings = ", ".join(summary.settings)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{escape(csp, quote=True)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{style}</style>
</head>
<body>
<h1>{escape(title)}</h1>
<p class="muted">Edit records of {h(tools)}{f", settings {h(settings)}" if settings else ""}.
Invisible characters are shown as <span class="inv">LABELS</span>; removed text is beside the copy that was kept,
with the characters that differ marked.</p>
{summary_html(summary)}
{_BROWSER}
<footer>Made by dedup {escape(__version__)} from the edit records alone; self-contained, no network access.</footer>
<script type="application/json" id="dedup-data">{script_json(report_data(docs))}</script>
<script>{script}</script>
</body>
</html>
"""
