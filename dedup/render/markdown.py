"""The Markdown summary a reviewer reads first (``dedup report --format md``).

Scraped text and document ids appear only as short excerpts: invisible characters as labels,
line ends as ``⏎``, ``&``, ``<`` and ``>`` as entities, and the characters that could start code,
emphasis, links, table cells or math backslash-escaped (``:`` too, so no ``http://`` becomes a
link), so no renderer turns scraped text into HTML or markup.
"""

from __future__ import annotations

import re

from dedup.model import REMOVE
from dedup.render.summary import ClusterSummary, Summary, percent
from dedup.render.text import excerpt

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SYNTAX = re.compile(r"[\\`*_\[\]|~&<>$:]")  # what can start HTML, code, emphasis, links or cells
BAR_WIDTH = 30


def md(text: str, limit: int = 80) -> str:
    """Scraped ``text`` as inert Markdown on one line (see the module docstring)."""
    return _SYNTAX.sub(lambda m: _ENTITIES.get(m.group(), "\\" + m.group()), excerpt(text, limit))


def _table(header: list[str], rows: list[list[str]], align: str) -> list[str]:
    """A pipe table; ``align`` has an ``l`` or ``r`` per column (numbers go right)."""
    rule = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _cluster_rows(clusters: tuple[ClusterSummary, ...]) -> list[list[str]]:
    return [[str(c.id), f"{c.paragraphs:,}", f"{c.documents:,}", f"{c.removed:,}",
             f"{md(c.kept_doc, 60)} ¶{c.kept_index}", md(c.text, 70)] for c in clusters]


def render_markdown(summary: Summary) -> str:
    s = summary
    out = ["# dedup report", ""]
    if s.tools:
        out += [f"Edit records of {md(', '.join(s.tools))}, settings {md(', '.join(s.settings))}.", ""]
    out += _table(["", ""], s.overview(), "ll")

    out += ["## Changes by rule", ""]
    if s.by_rule:
        out += _table(["operation", "rule", "edits", "documents", "characters removed"],
                      [[r.op, md(r.rule), f"{r.edits:,}", f"{r.documents:,}", f"{r.chars:,}"] for r in s.by_rule],
                      "llrrr")
        if s.by_reason:
            reasons = ", ".join(f"{md(reason)} {n:,}" for reason, n in s.by_reason)
            out += [f"Removals by reason: {reasons}.", ""]
    else:
        out += ["Nothing was changed.", ""]

    out += ["## Share of each document removed", ""]
    most = max((n for _, n in s.distribution), default=0) or 1
    out += _table(["share removed", "documents", ""],
                  [[name, f"{n:,}", "█" * round(BAR_WIDTH * n / most)] for name, n in s.distribution], "lrl")

    if s.most_lost:
        out += ["## Documents that lost the most", "",
                "A document that lost most of its text is usually a scraper failure: worth a look.", ""]
        rows = [[md(d.id, 70), percent(d.share_removed), f"{d.chars_removed:,}", f"{d.input.chars:,}",
                 f"{sum(e.edit.op == REMOVE for e in d.edits):,}"] for d in s.most_lost]
        out += _table(["document", "removed", "characters removed", "of", "paragraphs removed"], rows, "lrrrr")

    if s.largest_clusters:
        header = ["cluster", "paragraphs", "documents", "removed", "kept copy", "text"]
        out += ["## Largest clusters", ""]
        out += _table(header, _cluster_rows(s.largest_clusters), "rrrrll")
        out += ["## Clusters across documents", ""]
        if s.cross_clusters:
            out += [f"{s.cross_documents:,} cluster(s) span more than one document (boilerplate, "
                    "syndicated copies); the widest:", ""]
            out += _table(header, _cluster_rows(s.cross_clusters), "rrrrll")
        else:
            out += ["None: every removal matched a copy in its own document.", ""]

    if s.problems:
        out += ["## Inputs not processed", ""]
        out += [f"- {md(p.source, 100)}{'' if p.line is None else f' line {p.line}'}: {md(p.message, 200)}"
                for p in s.problems]
        out += [""]
    return "\n".join(out)
