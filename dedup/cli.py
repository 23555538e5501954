"""The ``dedup`` command: a thin click layer over the library.

Standard output carries only data (cleaned text, JSON Lines); messages, progress and the summary
table go to standard error through rich, progress only when standard error is a terminal.

Exit codes: 0 done; 1 ``--check`` found something to change; 2 usage error; 3 some inputs could
not be processed (each is named on standard error; all the others were processed and written).

Everything said on standard error that comes from the input (file names, problem messages) goes
through ``dedup.safe.printable`` and rich ``Text``: controls, escape sequences and bidi controls are
shown as escapes, never interpreted, and nothing is read as rich markup. Data written to standard
output is left exact, unless standard output is a terminal, where it is made printable too.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from dedup import __version__
from dedup.model import REMOVE, Problem
from dedup.pipeline import Deduplicator, Result
from dedup.readers import (
    DEFAULT_MAX_FILE_SIZE,
    STDIN,
    UTF8,
    Input,
    Loaded,
    codec_name,
    discover,
    format_size,
    parse_size,
    read_inputs,
    unchanged_since,
)
from dedup.render.jsonl import cluster_record, dumps, edit_record, problem_record
from dedup.safe import printable
from dedup.settings import KEEP_RULES, SCOPES, Settings
from dedup.writers import OutputFolder, UnsafePathError, write_atomic

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
        """One line; ``text`` may carry input-derived text (it is made printable)."""
        if not self.quiet:
            self.console.print(Text(printable(text), style=style or ""), soft_wrap=True)

    def problem(self, problem: Problem) -> None:
        self.console.print(Text("error: ", style="bold red") + Text(printable(str(problem))), soft_wrap=True)

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
        click.option("-q", "--quiet", is_flag=True, help="Print nothing on stderr but errors."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How inputs are found and read."""

    pattern: str
    encoding: str
    max_size: int
    follow_symlinks: bool


def _encoding(ctx: click.Context, param: click.Parameter, value: str) -> str:
    try:
        return codec_name(value)
    except LookupError:
        raise click.BadParameter(f"{value!r} is not a text encoding Python knows (or 'auto')") from None


def _size(ctx: click.Context, param: click.Parameter, value: str) -> int:
    try:
        return parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def read_options(f: F) -> F:
    """How inputs are found and read; shared by ``clean`` and ``scan``."""
    options = [
        click.option("--glob", "pattern", default="*.txt", show_default=True,
                     help="File-name pattern for files found in folders."),
        click.option("--encoding", default=UTF8, show_default=True, callback=_encoding,
                     help="Codec of the input files, or 'auto' to detect it (charset-normalizer). "
                          "Cleaned text is always written as UTF-8."),
        click.option("--max-file-size", "max_size", default=format_size(DEFAULT_MAX_FILE_SIZE).replace(" ", ""),
                     show_default=True, callback=_size,
                     help="Skip (as a problem) files larger than this: bytes, or with K, M, G (binary); 0: no limit."),
        click.option("--follow-symlinks", is_flag=True,
                     help="Follow symbolic links found in folders, also outside the input folder."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _settings(threshold: float, num_perm: int, min_chars: int, scope: str, keep: str) -> Settings:
    try:
        return Settings(threshold=threshold, num_perm=num_perm, min_chars=min_chars, scope=scope, keep=keep)
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


def _load(inputs: tuple[str, ...], options: ReadOptions, messages: Messages,
          exclude: tuple[str, ...] = ()) -> tuple[list[Loaded], list[Problem]]:
    notes: list[str] = []
    found, problems = discover(inputs, options.pattern, follow_symlinks=options.follow_symlinks,
                               exclude=exclude, notes=notes)
    unique: dict[str, Input] = {}
    for item in found:
        unique.setdefault(item.id, item)
    loaded, read_problems = read_inputs(unique.values(), stdin=sys.stdin.buffer, encoding=options.encoding,
                                        max_size=options.max_size)
    problems.extend(read_problems)
    for note in notes:
        messages.info(f"note: {note}")
    for done in loaded:
        if done.document.encoding != UTF8:
            how = "detected" if done.detected else "--encoding"
            messages.info(f"{done.input.id}: decoded as {done.document.encoding} ({how})")
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
    table.add_row("by reason", counts(Counter(e.reason for e in removed)))
    encodings = Counter(d.document.encoding for d in result.documents)
    if set(encodings) - {UTF8}:
        table.add_row("encodings", counts(encodings) + " (written as UTF-8)")
    messages.render(table)
    if problems:
        messages.info(f"{len(problems)} input(s) could not be processed (see errors above)", "yellow")


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _stdout_text(text: str) -> None:
    """Data on standard output: exact, unless it is a terminal (then made printable)."""
    if _stdout_is_terminal():
        text = printable(text, multiline=True)
    _stdout_bytes(text.encode("utf-8"))


def _stdout_bytes(data: bytes) -> None:
    out = sys.stdout.buffer
    out.write(data)
    out.flush()


def _jsonl(records: list[dict[str, Any]], terminal: bool = False) -> bytes:
    return "".join(dumps(r, terminal=terminal) + "\n" for r in records).encode("utf-8")


def _fail(message: str) -> NoReturn:
    raise click.UsageError(printable(message))


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", "output_dir", type=click.Path(file_okay=False),
              help="Write every cleaned file under this folder, at its path relative to its input folder.")
@click.option("--in-place", is_flag=True, help="Rewrite changed input files (atomically).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the edit records as JSON Lines, one object per document ('-': stdout).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when anything would change.")
@read_options
@detection_options
def clean(inputs: tuple[str, ...], output_dir: str | None, in_place: bool, report_path: str | None,
          check: bool, pattern: str, encoding: str, max_size: int, follow_symlinks: bool,
          threshold: float, num_perm: int, min_chars: int, scope: str, keep: str, quiet: bool) -> None:
    """Remove repeated paragraphs from INPUT files, folders, or - (stdin).

    One file or - without -o writes the cleaned text to stdout.
    """
    messages = _messages(quiet)
    settings = _settings(threshold, num_perm, min_chars, scope, keep)
    options = ReadOptions(pattern, encoding, max_size, follow_symlinks)
    to_stdout = not (output_dir or in_place or check)
    if output_dir and in_place:
        _fail("-o/--output and --in-place exclude each other")
    if in_place and STDIN in inputs:
        _fail("--in-place cannot rewrite standard input")
    if to_stdout and (len(inputs) != 1 or (inputs[0] != STDIN and os.path.isdir(inputs[0]))):
        _fail("several inputs or a folder: give -o DIR, --in-place or --check")
    if report_path == STDIN and to_stdout:
        _fail("--report - needs stdout, which carries the cleaned text here: give -o DIR or a report file")
    if output_dir and any(p != STDIN and os.path.isdir(p) and _same_file(p, output_dir) for p in inputs):
        _fail(f"-o {output_dir} is an input folder: use --in-place to rewrite the inputs")

    exclude = tuple(p for p in (output_dir, report_path) if p and p != STDIN)
    loaded, problems = _load(inputs, options, messages, exclude)
    targets = _output_targets(loaded, output_dir) if output_dir else {}
    result = _run(loaded, settings, messages)

    for item, doc in zip(loaded, result.documents, strict=True):
        if check:
            if doc.changed:
                messages.info(f"would clean {item.input.id} ({len(doc.edits)} paragraph(s))")
        elif in_place:
            if doc.changed:
                assert item.stamp is not None  # standard input is refused above
                _write(os.path.realpath(item.input.path), doc.cleaned, item, problems, messages, durable=True)
        elif output_dir:
            target = targets[item.input.id]
            if isinstance(target, Problem):
                messages.problem(target)
                problems.append(target)
            else:
                _write(target, doc.cleaned, item, problems, messages, durable=False)
        else:
            _stdout_text(doc.cleaned)

    if report_path:
        fingerprint = settings.fingerprint()
        records = chain((edit_record(doc, fingerprint) for doc in result.documents),
                        (problem_record(p) for p in list(problems)))
        if report_path == STDIN:
            terminal = _stdout_is_terminal()
            for record in records:
                _stdout_bytes((dumps(record, terminal=terminal) + "\n").encode("utf-8"))
        else:
            try:  # with --in-place the report is what can undo the run: flushed to disk too
                write_atomic(report_path, (dumps(r) + "\n" for r in records), durable=in_place)
            except OSError as exc:
                problem = Problem(report_path, f"cannot write the report: {exc.strerror or exc}")
                messages.problem(problem)
                problems.append(problem)

    _summary(result, problems, messages, "check" if check else "clean")
    if problems:
        sys.exit(EXIT_PROBLEMS)
    if check and any(d.changed for d in result.documents):
        sys.exit(EXIT_CHANGES)


def _write(target: str | Path, cleaned: str, item: Loaded, problems: list[Problem], messages: Messages,
           durable: bool) -> None:
    """Write one cleaned file atomically, unless its input changed since it was read; a failure is
    a problem for this file only. ``durable``: flushed to disk before the rename (``--in-place``,
    where the file replaced is the input itself)."""
    problem: Problem | None = None
    if item.stamp is not None and not unchanged_since(item.input.path, item.stamp):
        problem = Problem(item.input.path, "changed or removed during the run; its cleaned copy was not written")
    else:
        try:
            write_atomic(target, cleaned, durable=durable)
        except OSError as exc:
            problem = Problem(str(target), f"cannot write: {exc.strerror or exc}")
    if problem is not None:
        messages.problem(problem)
        problems.append(problem)


def _output_targets(loaded: list[Loaded], output_dir: str) -> dict[str, Path | Problem]:
    """Where each cleaned file goes under ``-o``: never outside it, never onto an input, never two
    files onto one path (the last two are usage errors, found before anything is written)."""
    targets: dict[str, Path | Problem] = {}
    seen: dict[str, str] = {}
    folder = OutputFolder(output_dir)
    for item in loaded:
        try:
            target = folder.join(item.input.relpath)
        except UnsafePathError as exc:
            targets[item.input.id] = Problem(item.input.id, f"{exc}; not written")
            continue
        other = seen.setdefault(os.path.normcase(str(target)), item.input.id)
        if other != item.input.id:
            _fail(f"{other} and {item.input.id} would both be written to {item.input.relpath}")
        targets[item.input.id] = target
    inputs = {(item.stamp.dev, item.stamp.ino) for item in loaded if item.stamp is not None}
    for item_id, where in targets.items():
        if isinstance(where, Path):
            try:
                st = where.stat()
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in inputs:
                _fail(f"{item_id}: its cleaned copy would overwrite an input ({where}); use --in-place for that")
    return targets


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@read_options
@detection_options
def scan(inputs: tuple[str, ...], pattern: str, encoding: str, max_size: int, follow_symlinks: bool,
         threshold: float, num_perm: int, min_chars: int, scope: str, keep: str, quiet: bool) -> None:
    """Write the duplicate clusters of INPUT as JSON Lines on stdout; change nothing.

    Each line is one cluster: the canonical copy with its text, and every member with its
    status (removed or kept, and why), rule and verified score.
    """
    messages = _messages(quiet)
    settings = _settings(threshold, num_perm, min_chars, scope, keep)
    loaded, problems = _load(inputs, ReadOptions(pattern, encoding, max_size, follow_symlinks), messages)
    result = _run(loaded, settings, messages)
    text_of = {d.document.id: d.document.text for d in result.documents}
    _stdout_bytes(_jsonl([cluster_record(c, text_of) for c in result.clusters], terminal=_stdout_is_terminal()))
    _summary(result, problems, messages, "scan")
    messages.info(f"{len(result.clusters)} cluster(s)")
    if problems:
        sys.exit(EXIT_PROBLEMS)


def main() -> None:
    cli(prog_name="dedup")
