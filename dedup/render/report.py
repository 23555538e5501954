"""``dedup report``: edit records rendered in one of the report formats, as one string.

``md`` the summary a reviewer reads first; ``html`` one self-contained page (summary, then the
documents to filter and page through); ``diff`` a unified diff per changed document; ``term`` a
short summary, or with document ids, those documents' edits, for the terminal (rich).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from rich.console import Console, RenderableType

from dedup.records import Records
from dedup.render.diff import render_diff
from dedup.render.html import render_html
from dedup.render.markdown import render_markdown
from dedup.render.summary import summarize
from dedup.render.terminal import document_view, print_views, summary_view

FORMATS = ("md", "html", "diff", "term")


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered report, and the documents it could not show (messages naming them)."""

    text: str
    errors: list[str] = field(default_factory=list)


def select(records: Records, doc_ids: Sequence[str]) -> Records:
    """The records of the documents ``doc_ids`` only (all of them when empty); the problem
    records of the run go with a whole run only. ``KeyError`` names ids without a record."""
    if not doc_ids:
        return records
    wanted = set(doc_ids)
    missing = wanted - {d.id for d in records.documents}
    if missing:
        raise KeyError(", ".join(sorted(missing)))
    return Records([d for d in records.documents if d.id in wanted], [], records.errors)


def render_report(records: Records, fmt: str, one_by_one: bool = False, color: bool = False,
                  width: int = 100) -> Rendered:
    """``records`` in format ``fmt``. ``one_by_one`` asks the terminal view for each document's
    edits rather than the summary; ``color`` and ``width`` are for the terminal view only."""
    if fmt == "md":
        return Rendered(render_markdown(summarize(records)))
    if fmt == "html":
        return Rendered(render_html(summarize(records), records.documents))
    if fmt == "diff":
        text, errors = render_diff(records.documents)
        return Rendered(text, [str(e) for e in errors])
    if fmt == "term":
        views: list[RenderableType] = ([document_view(d) for d in records.documents] if one_by_one
                                       else [summary_view(summarize(records))])
        buffer = io.StringIO()
        console = Console(file=buffer, width=width, force_terminal=color, color_system="standard" if color else None,
                          highlight=False, markup=False, emoji=False, legacy_windows=False)
        print_views(console, views)
        return Rendered(buffer.getvalue())
    raise ValueError(f"unknown report format {fmt!r}; choose one of {', '.join(FORMATS)}")
