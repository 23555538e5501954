"""The ``dedup`` command: a thin click layer over the library.

Standard output carries only data (cleaned text, JSON Lines); messages, progress and the summary
table go to standard error through rich, progress only when standard error is a terminal.

Exit codes: 0 done; 1 ``--check`` found something to change; 2 usage error; 3 some inputs could
not be processed (each is named on standard error; all the others were processed and written).
"""

from __future__ import annotations

import os
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from dedup import __version__
from dedup.fixes import FIX_RULES
from dedup.model import BOILERPLATE, REMOVE, Problem
from dedup.pipeline import Deduplicator, Result
from dedup.readers import STDIN, Input, Loaded, discover, read_inputs
from dedup.records import Records, load_records, read_records
from dedup.render.jsonl import cluster_record, dumps, edit_records
from dedup.render.report import FORMATS, render_report, select
from dedup.render.terminal import safe
from dedup.restore import restore_files
from dedup.settings import BOILERPLATE_MODES, KEEP_RULES, SCOPES, Settings
from dedup.writers import write_atomic

EXIT_OK = 0
EXIT_CHANGES = 1
EXIT_USAGE = 2
EXIT_PROBLEMS = 3

F = TypeVar("F", bound=Callable[..., Any])
_DEFAULTS = Settings()


@dataclass(frozen=True, slots=True)
class Messages:
    """Everything the command says on standard error."""

    console: Console
    quiet: bool

    def info(self, text: str, style: str | None = None) -> None:
        if not self.quiet:
            self.console.print(Text(text, style=style or ""), soft_wrap=True)

    def problem(self, problem: Problem) -> None:
        """An error naming a file or document: escape sequences in names never reach the terminal."""
        self.console.print(Text("error: ", style="bold red") + safe(str(problem)), soft_wrap=True)

    def render(self, renderable: Table) -> None:
        if not self.quiet:
            self.console.print(renderable)


def _messages(quiet: bool) -> Messages:
    return Messages(Console(stderr=True, highlight=False), quiet)


def detection_options(f: F) -> F:
    """The options that decide what is a duplicate; shared by ``clean`` and ``scan``."""
    options = [
        click.option("--threshold", type=click.FloatRange(0.0, 1.0, min_open=True),
                     default=_DEFAULTS.threshold, show_default=True,
                     help="Minimum verified similarity (rapidfuzz, 0-1) for a removal."),
        click.option("--num-perm", type=click.IntRange(2, 1024), default=_DEFAULTS.num_perm,
                     show_default=True, help="MinHash permutations."),
        click.option("--min-chars", type=click.IntRange(0), default=_DEFAULTS.min_chars, show_default=True,
                     help="Shorter paragraphs (and list items) go only inside a repeated run."),
        click.option("--scope", type=click.Choice(SCOPES), default=_DEFAULTS.scope, show_default=True,
                     help="Match across all inputs (corpus) or within each document only."),
        click.option("--keep", type=click.Choice(KEEP_RULES), default=_DEFAULTS.keep, show_default=True,
                     help="Which copy stays: the first in input order, or the longest."),
        click.option("--no-fix", is_flag=True, help="Turn every text fix off (duplicates only)."),
        click.option("--skip-fix", "skip_fix", multiple=True, type=click.Choice(FIX_RULES),
                     help="Turn one text fix off (repeatable)."),
        click.option("--boilerplate", type=click.Choice(BOILERPLATE_MODES), default=_DEFAULTS.boilerplate,
                     show_default=True,
                     help="Lines found in many documents: remove every copy, or only report them."),
        click.option("--boilerplate-min-docs", type=click.IntRange(2), default=_DEFAULTS.boilerplate_min_docs,
                     show_default=True, help="Documents a short line must occur in to be boilerplate."),
        click.option("--glob", "pattern", default="*.txt", show_default=True,
                     help="File-name pattern for files found in folders."),
        click.option("-q", "--quiet", is_flag=True, help="Print nothing on stderr but errors."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def engine_options(f: F) -> F:
    """Which engine runs the cleaning: in this process, or on Apache Spark (``dedup.spark``)."""
    f = click.option("--spark-master", default="local[*]", show_default=True,
                     help="Spark master URL for --engine spark (ignored under spark-submit).")(f)
    return click.option("--engine", type=click.Choice(["embedded", "spark"]), default="embedded", show_default=True,
                        help="embedded: in this process; spark: on Apache Spark (pip install 'dedup[spark]').")(f)


def _settings(options: dict[str, Any]) -> Settings:
    """One ``Settings`` from the detection and fix options (the only place they are combined)."""
    skip = set(options.pop("skip_fix", ()))
    fixes = () if options.pop("no_fix", False) else tuple(r for r in FIX_RULES if r not in skip)
    try:
        return Settings(fixes=fixes, **options)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="dedup")
def cli() -> None:
    """Find repeated and near-repeated paragraphs in scraped text and write clean text.

    Every removal is verified on the text (rapidfuzz) after MinHash/LSH proposes it, and is
    recorded with the copy that was kept.
    """


@contextmanager
def _progress(messages: Messages) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar on stderr when it is a terminal; otherwise a silent callback."""
    if messages.quiet or not messages.console.is_terminal:
        yield lambda stage, done, total: None
        return
    columns = (TextColumn("{task.description:>8}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
               TimeElapsedColumn())
    with Progress(*columns, console=messages.console, transient=True) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=max(total, 1))
            bar.update(tasks[stage], completed=done, total=max(total, 1))

        yield update


def _load(inputs: tuple[str, ...], pattern: str, messages: Messages) -> tuple[list[Loaded], list[Problem]]:
    found, problems = discover(inputs, pattern)
    unique: dict[str, Input] = {}
    for item in found:
        unique.setdefault(item.id, item)
    loaded, read_problems = read_inputs(unique.values(), stdin=sys.stdin.buffer)
    problems.extend(read_problems)
    for p in problems:
        messages.problem(p)
    return loaded, problems


def _run(loaded: list[Loaded], settings: Settings, messages: Messages) -> Result:
    with _progress(messages) as progress:
        return Deduplicator(settings).run([item.document for item in loaded], progress=progress)


def _summary(result: Result, problems: list[Problem], messages: Messages, verb: str) -> None:
    removed = [e for d in result.documents for e in d.edits if e.op == REMOVE]
    table = Table(title=f"dedup {verb}", title_justify="left", show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()

    def counts(values: Counter[str]) -> str:
        return ", ".join(f"{key} {n:,}" for key, n in sorted(values.items())) or "-"

    changed = sum(d.changed for d in result.documents)
    table.add_row("documents", f"{len(result.documents):,} ({changed:,} changed)")
    table.add_row("paragraphs", f"{sum(d.paragraphs for d in result.documents):,}")
    table.add_row("removed", f"{len(removed):,} paragraphs, {sum(e.end - e.start for e in removed):,} characters")
    table.add_row("by rule", counts(Counter(e.rule for e in removed)))
    table.add_row("by reason", counts(Counter(e.reason if e.rule != BOILERPLATE else "boilerplate" for e in removed)))
    fixes = [rule for d in result.documents for e in d.edits if e.op != REMOVE for rule in e.rule.split("+")]
    table.add_row("fixes", counts(Counter(fixes)))
    listed = [b for d in result.documents for b in d.boilerplate]
    if listed:
        docs = len({b.paragraph.doc for b in listed})
        table.add_row("boilerplate", f"{len(listed):,} paragraphs in {docs:,} documents")
    messages.render(table)
    if problems:
        messages.info(f"{len(problems)} input(s) could not be processed (see errors above)", "yellow")


def _stdout_bytes(data: bytes) -> None:
    out = sys.stdout.buffer
    out.write(data)
    out.flush()


def _fail(message: str) -> NoReturn:
    raise click.UsageError(message)


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", "output_dir", type=click.Path(file_okay=False),
              help="Write every cleaned file under this folder, at its path relative to its input folder.")
@click.option("--in-place", is_flag=True, help="Rewrite changed input files (atomically).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the edit records as JSON Lines, one object per document ('-': stdout).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when anything would change.")
@detection_options
@engine_options
def clean(inputs: tuple[str, ...], output_dir: str | None, in_place: bool, report_path: str | None,
          check: bool, pattern: str, quiet: bool, engine: str, spark_master: str, **options: Any) -> None:
    """Remove repeated paragraphs from INPUT files, folders, or - (stdin), and fix scraping
    artefacts (see --skip-fix).

    One file or - without -o writes the cleaned text to stdout.
    """
    messages = _messages(quiet)
    settings = _settings(options)
    to_stdout = not (output_dir or in_place or check)
    if output_dir and in_place:
        _fail("-o/--output and --in-place exclude each other")
    if in_place and STDIN in inputs:
        _fail("--in-place cannot rewrite standard input")
    if to_stdout and (len(inputs) != 1 or (inputs[0] != STDIN and os.path.isdir(inputs[0]))):
        _fail("several inputs or a folder: give -o DIR, --in-place or --check")
    if report_path == STDIN and to_stdout:
        _fail("--report - needs stdout, which carries the cleaned text here: give -o DIR or a report file")

    if engine == "spark":  # reads, cleans and writes on Spark (dedup.spark): the same outputs
        from dedup.spark import run_clean_spark

        result, problems = run_clean_spark(inputs, settings, pattern=pattern, output_dir=output_dir, in_place=in_place,
                                           check=check, report_path=report_path, master=spark_master, messages=messages)
        _summary(result, problems, messages, "check" if check else "clean")
        sys.exit(EXIT_PROBLEMS if problems else EXIT_CHANGES if check and any(d.changed for d in result.documents)
                 else EXIT_OK)

    loaded, problems = _load(inputs, pattern, messages)
    if output_dir:
        _check_collisions(loaded)
    result = _run(loaded, settings, messages)

    for item, doc in zip(loaded, result.documents, strict=True):
        cleaned = doc.cleaned.encode("utf-8")
        if check:
            if doc.changed:
                messages.info(f"would clean {item.input.id} ({len(doc.edits)} paragraph(s))")
        elif in_place:
            if doc.changed:
                write_atomic(item.input.path, cleaned)
        elif output_dir:
            write_atomic(Path(output_dir) / item.input.relpath, cleaned)
        else:
            _stdout_bytes(cleaned)

    if report_path:
        records = edit_records(result.documents, settings.fingerprint(), problems)
        data = "".join(dumps(rec) + "\n" for rec in records).encode("utf-8")
        if report_path == STDIN:
            _stdout_bytes(data)
        else:
            write_atomic(report_path, data)

    _summary(result, problems, messages, "check" if check else "clean")
    if problems:
        sys.exit(EXIT_PROBLEMS)
    if check and any(d.changed for d in result.documents):
        sys.exit(EXIT_CHANGES)


def _check_collisions(loaded: list[Loaded]) -> None:
    seen: dict[str, str] = {}
    for item in loaded:
        other = seen.setdefault(item.input.relpath, item.input.id)
        if other != item.input.id:
            _fail(f"{other} and {item.input.id} would both be written to {item.input.relpath}")


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@detection_options
@engine_options
def scan(inputs: tuple[str, ...], pattern: str, quiet: bool, engine: str, spark_master: str, **options: Any) -> None:
    """Write the duplicate clusters of INPUT as JSON Lines on stdout; change nothing.

    Each line is one cluster: the canonical copy with its text, and every member with its
    status (removed or kept, and why), rule and verified score.
    """
    messages = _messages(quiet)
    settings = _settings(options)
    if engine == "spark":
        from dedup.spark import run_scan_spark

        result, problems = run_scan_spark(inputs, settings, pattern=pattern, master=spark_master, messages=messages)
    else:
        loaded, problems = _load(inputs, pattern, messages)
        result = _run(loaded, settings, messages)
    text_of = {d.document.id: d.document.text for d in result.documents}
    data = "".join(dumps(cluster_record(c, text_of)) + "\n" for c in result.clusters)
    _stdout_bytes(data.encode("utf-8"))
    _summary(result, problems, messages, "scan")
    messages.info(f"{len(result.clusters)} cluster(s)")
    if problems:
        sys.exit(EXIT_PROBLEMS)


def _read_edits(path: str, messages: Messages) -> Records:
    """The records of an EDITS file ('-': stdin); lines that cannot be read are named on stderr."""
    records = read_records(sys.stdin.buffer, "<stdin>") if path == STDIN else load_records(path)
    for error in records.errors:
        messages.problem(error)
    return records


@cli.command("restore")
@click.argument("edits", type=click.Path(dir_okay=False, allow_dash=True))
@click.argument("cleaned", nargs=-1, required=True)
@click.option("-o", "--output", "output_dir", required=True, type=click.Path(file_okay=False),
              help="Write the restored files under this folder, at their paths relative to CLEANED.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on stderr but errors.")
def restore_command(edits: str, cleaned: tuple[str, ...], output_dir: str, quiet: bool) -> None:
    """Rebuild the original files byte for byte from CLEANED files or folders and the EDITS
    records alone.

    Each record takes the cleaned file whose path (relative to a CLEANED folder) ends its
    document id; the file must have the record's output hash and the rebuilt text its input
    hash, or nothing is written for it (exit 3). With a folder, every record must find its
    file; with files only, just their documents are restored.
    """
    messages = _messages(quiet)
    if STDIN in cleaned:
        _fail("CLEANED must be files or folders, not -")
    records = _read_edits(edits, messages)
    report = restore_files(records.documents, cleaned, output_dir)
    for problem in report.problems:
        messages.problem(problem)
    messages.info(f"restored {len(report.restored):,} of {len(records.documents):,} document(s) in EDITS "
                  f"into {output_dir}")
    if records.problems:
        messages.info(f"{len(records.problems):,} input(s) the run could not process have nothing to restore "
                      "(listed in EDITS as problem records)", "yellow")
    if report.unclaimed:
        messages.info(f"{report.unclaimed:,} file(s) under CLEANED matched no record and were ignored")
    if records.errors or report.problems:
        sys.exit(EXIT_PROBLEMS)


@cli.command()
@click.argument("edits", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="md", show_default=True,
              help="md: summary; html: one self-contained page; diff: unified diff; term: terminal view.")
@click.option("--doc", "doc_ids", multiple=True, metavar="ID",
              help="Only this document (repeatable); with --format term, show its edits.")
@click.option("-o", "--output", "output_path", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the report to this file (default: stdout).")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing on stderr but errors.")
def report(edits: str, fmt: str, doc_ids: tuple[str, ...], output_path: str | None, quiet: bool) -> None:
    """Render the EDITS records of a run ('-': stdin) as a report, from the records alone."""
    messages = _messages(quiet)
    records = _read_edits(edits, messages)
    try:
        records = select(records, doc_ids)
    except KeyError as exc:
        _fail(f"no record in {edits} for {exc.args[0]}")
    to_stdout = output_path in (None, STDIN)
    color = fmt == "term" and to_stdout and sys.stdout.isatty()
    width = shutil.get_terminal_size().columns if color else 100
    rendered = render_report(records, fmt, one_by_one=bool(doc_ids), color=color, width=width)
    for error in rendered.errors:
        messages.problem(Problem(edits, error))
    data = rendered.text.encode("utf-8")
    if to_stdout:
        _stdout_bytes(data)
    else:
        assert output_path is not None
        write_atomic(output_path, data)
        messages.info(f"wrote {output_path}")
    if records.errors or rendered.errors:
        sys.exit(EXIT_PROBLEMS)


def main() -> None:
    cli(prog_name="dedup")
