"""The terminal view (``dedup report --format term``): a short summary, or one document's edits.

Scraped text never reaches the terminal as it is: escape sequences are stripped, control and
invisible characters become labels, and everything is printed as ``rich.text.Text`` (never as
rich markup), so ``[bold red]`` in a page is shown as those characters.
"""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from dedup.model import REMOVE
from dedup.records import DocumentRecord, RecordedEdit
from dedup.render.summary import Summary, percent
from dedup.render.text import char_diff, marked, strip_escapes, visible_runs

LABEL = "reverse dim"


def safe(text: str, style: str = "") -> Text:
    """Scraped text as an inert ``Text``: escape sequences stripped, invisible characters labelled."""
    out = Text(style=style)
    for run, is_label in visible_runs(strip_escapes(text)):
        out.append(f"⟨{run}⟩" if is_label else run, style=LABEL if is_label else "")
    return out


def _highlighted(text: str, other: str, second: bool, style: str) -> Text:
    """``text`` with the characters that differ from ``other`` in ``style``."""
    mine, theirs = strip_escapes(text), strip_escapes(other)
    a, b = (theirs, mine) if second else (mine, theirs)
    out = Text()
    for run, differs in marked(mine, char_diff(a, b), second):
        out.append_text(safe(run, style if differs else ""))
    return out


def summary_view(s: Summary) -> RenderableType:
    table = Table(title="dedup report", title_justify="left", show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    table.add_row("documents", f"{s.documents:,} ({s.changed:,} changed)")
    table.add_row("paragraphs", f"{s.paragraphs:,}")
    table.add_row("removed", f"{s.removals:,} paragraphs, {s.chars_removed:,} characters ({percent(s.share_removed)})")
    if s.fixes:
        table.add_row("text fixes", f"{s.fixes:,}")
    table.add_row("by rule", Text(", ".join(f"{r.rule} {r.edits:,}" for r in s.by_rule) or "-"))
    table.add_row("clusters", f"{s.clusters:,} ({s.cross_documents:,} across documents)")
    if s.problems:
        table.add_row("not processed", f"{len(s.problems):,} input(s)")
    parts: list[RenderableType] = [table]
    if s.most_lost:
        lost = Table(title="lost the most", title_justify="left", box=None, padding=(0, 2))
        lost.add_column("document")
        lost.add_column("removed", justify="right")
        lost.add_column("characters", justify="right")
        for d in s.most_lost[:5]:
            lost.add_row(safe(d.id), percent(d.share_removed), f"{d.chars_removed:,}")
        parts += [Text(""), lost]
    return Group(*parts)


def _edit_view(rec: RecordedEdit) -> RenderableType:
    e = rec.edit
    head = Text()
    line = f"line {rec.lines.first}  " if rec.lines else ""
    head.append(f"{line}{e.op} ", style="bold")
    head.append_text(safe(e.rule, "bold"))
    if e.score is not None:
        head.append(f"  score {e.score:.2f}")
    if e.estimate is not None:
        head.append(f"  estimate {e.estimate:.2f}")
    if e.reason:
        head.append("  ").append_text(safe(e.reason))
    if e.cluster is not None:
        head.append(f"  cluster {e.cluster}")
    left, right = rec.paragraph_text, rec.counterpart
    body = Table.grid(padding=(0, 1))
    body.add_column(style="dim", no_wrap=True)
    body.add_column()
    body.add_row("removed" if e.op == REMOVE else "old", _highlighted(left, right, False, "bold red"))
    if e.kept:
        where = Text(", ").join(safe(f"{k.doc} ¶{k.index}") for k in e.kept)
        body.add_row("kept", where)
        body.add_row("", _highlighted(right, left, True, "bold green"))
    else:
        body.add_row("new", _highlighted(right, left, True, "bold green"))
    return Group(head, body, Text(""))


def document_view(doc: DocumentRecord) -> RenderableType:
    head = safe(doc.id, "bold")
    head.append(f"  {len(doc.edits):,} edit(s), {doc.chars_removed:,} of {doc.input.chars:,} characters removed "
                f"({percent(doc.share_removed)})")
    return Group(head, Text(""), *(_edit_view(rec) for rec in doc.edits))


def print_views(console: Console, views: list[RenderableType]) -> None:
    for view in views:
        console.print(view, markup=False, highlight=False, emoji=False)
