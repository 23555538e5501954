"""The ``dedup`` command: a thin click layer over the library.

Standard output carries only data (cleaned text, JSON Lines); messages, progress and the summary
table go to standard error through rich, progress only when standard error is a terminal.

Exit codes: 0 done; 1 ``--check`` found something to change; 2 usage error; 3 some inputs could
not be processed (each is named on standard error; all the others were processed and written).

Everything said on standard error that comes from the input (file names, problem messages) goes
through ``dedup.safe.printable`` and rich ``Text``: controls, escape sequences and bidi controls are
shown as escapes, never interpreted, and nothing is read as rich markup. Data written to standard
output is left exact, unless standard output is a terminal, where it is made printable too.

Runs stream: inputs are read one at a time, cleaned batch by batch against an index of everything
seen (``--index`` keeps it in SQLite across runs), and each cleaned file, record and report line
is written as it is produced. Memory holds the index and the documents in flight.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from dedup import __version__
from dedup.fixes import FIX_RULES
from dedup.model import Document, DocumentResult, Problem
from dedup.pipeline import Deduplicator, collector_tuned
from dedup.readers import (
    DEFAULT_MAX_FILE_SIZE,
    STDIN,
    UTF8,
    Input,
    Loaded,
    codec_name,
    decode,
    discover,
    format_size,
    iter_inputs,
    parse_size,
    unchanged_since,
)
from dedup.records import Records, load_records, read_records
from dedup.render.jsonl import cluster_record, digest, dumps
from dedup.render.report import FORMATS, render_report, select
from dedup.restore import restore_files
from dedup.runner import KeptTexts, ReportWriter, Totals
from dedup.safe import printable
from dedup.settings import BOILERPLATE_MODES, KEEP_RULES, SCOPES, Settings
from dedup.store import IndexMismatch, StoredIndex, stats
from dedup.streams import (
    JSONL_SUFFIXES,
    ON_ERROR,
    SKIP,
    Problems,
    RecordError,
    clean_parquet,
    clean_records,
    cleaned_record,
    read_jsonl,
)
from dedup.writers import BackgroundWrites, OutputFolder, UnsafePathError, write_atomic

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
    """The options that decide what is a duplicate and what is fixed; shared by ``clean`` and ``scan``."""
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
                     help="Which copy stays: the first in input order, or the longest (holds the whole "
                          "input in memory)."),
        click.option("--no-fix", is_flag=True, help="Turn every text fix off (duplicates only)."),
        click.option("--skip-fix", "skip_fix", multiple=True, type=click.Choice(FIX_RULES),
                     help="Turn one text fix off (repeatable)."),
        click.option("--boilerplate", type=click.Choice(BOILERPLATE_MODES), default=_DEFAULTS.boilerplate,
                     show_default=True,
                     help="Lines found in many documents: remove every copy, or only report them "
                          "(holds the whole input in memory)."),
        click.option("--boilerplate-min-docs", type=click.IntRange(2), default=_DEFAULTS.boilerplate_min_docs,
                     show_default=True, help="Documents a short line must occur in to be boilerplate."),
        click.option("--index", "index_path", type=click.Path(dir_okay=False),
                     help="A persistent index (SQLite): clean against everything it holds, and add to it."),
        click.option("--jobs", type=click.IntRange(1), default=os.cpu_count() or 1, show_default="CPU cores",
                     help="Processes that prepare documents (segment, fix, key, sign)."),
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


def record_options(f: F) -> F:
    """Records in, records out: JSON Lines and Parquet."""
    options = [
        click.option("--jsonl", is_flag=True,
                     help="INPUT is JSON Lines (files, folders of .jsonl/.jsonl.gz/.jsonl.zst, or -): "
                          "the records are written back with their text cleaned."),
        click.option("--parquet", is_flag=True, help="INPUT is a Parquet file (also chosen by its .parquet name)."),
        click.option("--text-key", default="text", show_default=True, help="The field (column) holding the text."),
        click.option("--id-key", default="id", show_default=True,
                     help="The field holding the record id (missing: FILE:LINE)."),
        click.option("--on-error", type=click.Choice(ON_ERROR), default=SKIP, show_default=True,
                     help="A bad record: skip it (named on stderr, exit 3 at the end) or stop."),
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
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Find repeated and near-repeated paragraphs in scraped text and write clean text.

    Every removal is verified on the text (rapidfuzz) after MinHash/LSH proposes it, and is
    recorded with the copy that was kept.
    """
    ctx.with_resource(collector_tuned())  # restored when the command ends


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


def _deduplicator(settings: Settings, index_path: str | None, messages: Messages, *,
                  clusters: bool = False) -> Deduplicator:
    dedup = Deduplicator(settings, clusters=clusters)
    if index_path:
        try:
            dedup.index = StoredIndex.open(index_path, settings, dedup.hasher, dedup.banding)
        except IndexMismatch as exc:
            messages.problem(Problem(index_path, str(exc)))
            sys.exit(EXIT_PROBLEMS)
        except Exception as exc:  # a file that is not an index, a locked or unreadable one
            messages.problem(Problem(index_path, f"cannot open the index: {exc}"))
            sys.exit(EXIT_PROBLEMS)
    return dedup


def _summary(totals: Totals, problems: list[Problem], messages: Messages, verb: str) -> None:
    table = Table(title=f"dedup {verb}", title_justify="left", show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()

    def counts(values: Counter[str]) -> str:
        return ", ".join(f"{key} {n:,}" for key, n in sorted(values.items())) or "-"

    table.add_row("documents", f"{totals.documents:,} ({totals.changed:,} changed)")
    table.add_row("paragraphs", f"{totals.paragraphs:,}")
    table.add_row("removed", f"{totals.removed:,} paragraphs, {totals.removed_chars:,} characters")
    table.add_row("by rule", counts(totals.rules))
    table.add_row("by reason", counts(totals.reasons))
    table.add_row("fixes", counts(totals.fixes))
    if totals.boilerplate:
        table.add_row("boilerplate", f"{totals.boilerplate:,} paragraphs in {totals.boilerplate_docs:,} documents")
    if set(totals.encodings) - {UTF8}:
        table.add_row("encodings", counts(totals.encodings) + " (written as UTF-8)")
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


class _StdoutText:
    """Standard output as a text stream for JSON Lines (exact bytes; printable on a terminal)."""

    def write(self, text: str) -> int:
        if _stdout_is_terminal():
            text = printable(text, multiline=True)
        sys.stdout.buffer.write(text.encode("utf-8"))
        return len(text)

    def flush(self) -> None:
        sys.stdout.buffer.flush()


def _fail(message: str) -> NoReturn:
    raise click.UsageError(printable(message))


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _input_mode(inputs: tuple[str, ...], jsonl: bool, parquet: bool) -> str:
    if jsonl and parquet:
        _fail("--jsonl and --parquet exclude each other")
    if parquet or (inputs and all(p.endswith(".parquet") for p in inputs)):
        return "parquet"
    if jsonl or (inputs and all(p != STDIN and p.endswith(JSONL_SUFFIXES) for p in inputs)):
        return "jsonl"
    return "text"


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", "output",
              help="Write every cleaned file under this folder, at its path relative to its input folder; "
                   "with --jsonl or --parquet, the output file.")
@click.option("--in-place", is_flag=True, help="Rewrite changed input files (atomically).")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the edit records as JSON Lines, one object per document ('-': stdout).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 when anything would change.")
@record_options
@read_options
@detection_options
@engine_options
def clean(inputs: tuple[str, ...], output: str | None, in_place: bool, report_path: str | None, check: bool,
          jsonl: bool, parquet: bool, text_key: str, id_key: str, on_error: str, pattern: str, encoding: str,
          max_size: int, follow_symlinks: bool, index_path: str | None, jobs: int, quiet: bool, engine: str,
          spark_master: str, **options: Any) -> None:
    """Remove repeated paragraphs from INPUT files, folders, or - (stdin), and fix scraping
    artefacts (see --skip-fix).

    One file or - without -o writes the cleaned text to stdout; so do JSON Lines records.
    """
    messages = _messages(quiet)
    settings = _settings(options)
    mode = _input_mode(inputs, jsonl, parquet)
    if mode != "text":
        if in_place:
            _fail("--in-place rewrites text files; give -o FILE for records")
        if report_path == STDIN and not output and not check:
            _fail("--report - needs stdout, which carries the records here: give -o FILE")
    if engine == "spark":
        _refuse_for_spark({"--index": index_path, "--encoding": encoding, "--max-file-size": max_size,
                           "--follow-symlinks": follow_symlinks, "--text-key": text_key, "--id-key": id_key,
                           "--on-error": on_error})
        _clean_spark(inputs, mode, output, in_place, report_path, check, pattern, settings, spark_master, messages)
        return
    if mode != "text":
        run = _clean_parquet if mode == "parquet" else _clean_jsonl
        run(inputs, output, report_path, check, text_key, id_key, on_error, settings, index_path, jobs, messages)
        return
    _clean_text(inputs, output, in_place, report_path, check, ReadOptions(pattern, encoding, max_size, follow_symlinks),
                settings, index_path, jobs, messages)


# What --engine spark reads with; it refuses other values of these options rather than ignore them.
_SPARK_READS_WITH = {"--index": None, "--encoding": UTF8, "--max-file-size": DEFAULT_MAX_FILE_SIZE,
                     "--follow-symlinks": False, "--text-key": "text", "--id-key": "id", "--on-error": SKIP}


def _refuse_for_spark(given: dict[str, Any]) -> None:
    """Fail on the options (flag -> value) --engine spark does not take. --jobs, whose default is
    the machine's cores, only applies to the embedded engine."""
    refused = [flag for flag, value in given.items() if value != _SPARK_READS_WITH[flag]]
    if refused:
        _fail(f"--engine spark does not take {', '.join(refused)} "
              "(Spark parallelises the run itself and reads with the defaults)")


def _totals(results: Iterable[DocumentResult]) -> Totals:
    totals = Totals()
    for result in results:
        totals.add(result)
    return totals


def _clean_spark(inputs: tuple[str, ...], mode: str, output: str | None, in_place: bool, report_path: str | None,
                 check: bool, pattern: str, settings: Settings, master: str, messages: Messages) -> None:
    """``clean --engine spark``: the same inputs, checks and outputs as the embedded engine."""
    if mode == "text":
        _check_text_outputs(inputs, output, in_place, report_path, check)
    else:
        if mode == "parquet" and (len(inputs) != 1 or (not output and not check)):
            _fail("--parquet takes one Parquet file and needs -o FILE for the cleaned file (or --check)")
        if output and os.path.isdir(output):
            _fail(f"-o {output} is a folder: for records, -o names the output file")
        if any(p == STDIN for p in inputs):
            _fail("--engine spark reads JSON Lines from files, not from standard input")
    from dedup.spark import run_clean_spark

    result, problems = run_clean_spark(inputs, settings, pattern=pattern, output=output, mode=mode,
                                       in_place=in_place, check=check, report_path=report_path, master=master,
                                       messages=messages)
    _finish_cleaning(_totals(result.documents), problems, messages, check)


def _finish_cleaning(totals: Totals, problems: list[Problem], messages: Messages, check: bool) -> None:
    """The summary on stderr, then the exit code: 3 when an input could not be processed, else 1
    when --check found something to change, else 0."""
    _summary(totals, problems, messages, "check" if check else "clean")
    if problems:
        sys.exit(EXIT_PROBLEMS)
    if check and totals.changed:
        sys.exit(EXIT_CHANGES)


def _discover(inputs: tuple[str, ...], options: ReadOptions, messages: Messages,
              exclude: tuple[str, ...] = ()) -> tuple[list[Input], list[Problem]]:
    """The inputs, found and named but not read, in id order (so the order they are given in
    does not matter), and the problems of finding them (already said on stderr)."""
    notes: list[str] = []
    found, problems = discover(inputs, options.pattern, follow_symlinks=options.follow_symlinks,
                               exclude=exclude, notes=notes)
    unique: dict[str, Input] = {}
    for item in found:
        unique.setdefault(item.id, item)
    for note in notes:
        messages.info(f"note: {note}")
    for p in problems:
        messages.problem(p)
    return sorted(unique.values(), key=lambda item: item.id), problems


def _read_stream(items: list[Input], options: ReadOptions, messages: Messages, problems: list[Problem],
                 inflight: dict[str, Loaded], texts: KeptTexts,
                 placed: list[tuple[int, Problem]] | None = None) -> Iterator[Document]:
    """Documents read one by one; unreadable inputs become problems (said at once) and are skipped.
    ``placed``, when given, also gets each problem with the position of its input in ``items``."""
    reads = iter_inputs(items, sys.stdin.buffer, encoding=options.encoding, max_size=options.max_size)
    for position, got in enumerate(reads):  # one outcome per input, in order
        if isinstance(got, Problem):
            messages.problem(got)
            problems.append(got)
            if placed is not None:
                placed.append((position, got))
            continue
        if got.document.encoding != UTF8:
            how = "detected" if got.detected else "--encoding"
            messages.info(f"{got.input.id}: decoded as {got.document.encoding} ({how})")
        inflight[got.document.id] = got
        texts.add(got.document.id, got.document.text)
        yield got.document


def _rereader(items: list[Input], options: ReadOptions) -> Callable[[str], str | None]:
    """Read a file again by document id (for the text of a kept copy no longer in memory)."""
    paths = {item.id: item.path for item in items if item.path != STDIN}

    def reread(doc_id: str) -> str | None:
        path = paths.get(doc_id)
        if path is None:
            return None
        try:
            data = Path(path).read_bytes()
        except OSError:
            return None
        got = decode(data, path, options.encoding)
        return None if isinstance(got, Problem) else got.text

    return reread


def _check_text_outputs(inputs: tuple[str, ...], output_dir: str | None, in_place: bool, report_path: str | None,
                        check: bool) -> None:
    """Refuse, before anything is read, outputs that cannot be written (for either engine)."""
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


def _clean_text(inputs: tuple[str, ...], output_dir: str | None, in_place: bool, report_path: str | None,
                check: bool, options: ReadOptions, settings: Settings, index_path: str | None, jobs: int,
                messages: Messages) -> None:
    _check_text_outputs(inputs, output_dir, in_place, report_path, check)
    exclude = tuple(p for p in (output_dir, report_path, index_path) if p and p != STDIN)
    items, problems = _discover(inputs, options, messages, exclude)
    targets = _output_targets(items, output_dir) if output_dir else {}
    dedup = _deduplicator(settings, index_path, messages)
    texts = KeptTexts(_rereader(items, options))
    report = _report_writer(report_path, settings, in_place)
    inflight: dict[str, Loaded] = {}
    totals = Totals()
    # The problems of reading, of output paths and of writes, each with the position of its input:
    # the report lists them in input order, after those of finding the inputs. The order they are
    # met in is not the same for every --jobs (reading runs ahead of the writes by a batch or two).
    found = len(problems)
    placed: list[tuple[int, Problem]] = []
    position = {item.id: at for at, item in enumerate(items)}

    def written(done: list[tuple[int, Problem | None]]) -> None:
        for at, problem in done:
            if problem is not None:
                messages.problem(problem)
                placed.append((at, problem))

    try:
        with _progress(messages) as progress, BackgroundWrites[Problem | None]() as writes:
            stream = _read_stream(items, options, messages, problems, inflight, texts, placed)
            for doc in dedup.clean(stream, progress=progress, jobs=jobs):
                item = inflight.pop(doc.document.id)
                at = position[item.input.id]
                totals.add(doc)
                # a changed text both hashed for the report and written: encoded once, for both
                cleaned: str | bytes = doc.cleaned
                if report is not None and doc.changed and (in_place or output_dir) and not check:
                    with contextlib.suppress(UnicodeEncodeError):  # (a lone surrogate: as before)
                        cleaned = doc.cleaned.encode("utf-8")
                if report is not None:
                    report.document(doc, texts, item.sha256,
                                    digest(cleaned) if isinstance(cleaned, bytes) else None)
                if check:
                    if doc.changed:
                        messages.info(f"would clean {item.input.id} ({len(doc.edits)} edit(s))")
                elif in_place:
                    if doc.changed:
                        written(writes.submit(at, partial(
                            _write, os.path.realpath(item.input.path), cleaned, item, durable=True), len(cleaned)))
                elif output_dir:
                    target = targets[item.input.id]
                    if isinstance(target, Problem):
                        messages.problem(target)
                        placed.append((at, target))
                    else:
                        written(writes.submit(at, partial(_write, target, cleaned, item, durable=False), len(cleaned)))
                else:
                    _stdout_text(doc.cleaned)
            written(writes.finish())
        placed.sort(key=itemgetter(0))  # stable: one input has at most one problem anyway
        problems[found:] = [problem for _, problem in placed]
        _finish_report(report, problems, messages)
    finally:
        if report is not None:
            report.discard()
    _finish_cleaning(totals, problems, messages, check)


def _report_writer(report_path: str | None, settings: Settings, durable: bool) -> ReportWriter | None:
    if not report_path:
        return None
    if report_path == STDIN:
        return ReportWriter(report_path, settings.fingerprint(), stream=_StdoutText())  # type: ignore[arg-type]
    return ReportWriter(report_path, settings.fingerprint(), durable=durable)


def _finish_report(report: ReportWriter | None, problems: list[Problem], messages: Messages) -> None:
    """Problem records after the documents, then the report into place (with ``--in-place`` the
    report is what can undo the run: flushed to disk too)."""
    if report is None:
        return
    for p in list(problems):
        report.problem(p)
    try:
        report.commit()
    except OSError as exc:
        problem = Problem(report.path, f"cannot write the report: {exc.strerror or exc}")
        messages.problem(problem)
        problems.append(problem)


def _write(target: str | Path, cleaned: str | bytes, item: Loaded, durable: bool) -> Problem | None:
    """Write one cleaned file atomically (text, or its UTF-8 bytes), unless its input changed since
    it was read; a failure is a problem for this file only (returned). ``durable``: flushed to
    disk before the rename (``--in-place``, where the file replaced is the input itself). Runs in
    the writing thread (``BackgroundWrites``)."""
    if item.stamp is not None and not unchanged_since(item.input.path, item.stamp):
        return Problem(item.input.path, "changed or removed during the run; its cleaned copy was not written")
    try:
        write_atomic(target, cleaned, durable=durable)
    except OSError as exc:
        return Problem(str(target), f"cannot write: {exc.strerror or exc}")
    return None


def _output_targets(items: list[Input], output_dir: str) -> dict[str, Path | Problem]:
    """Where each cleaned file goes under ``-o``: never outside it, never onto an input, never two
    files onto one path (the last two are usage errors, found before anything is read)."""
    targets: dict[str, Path | Problem] = {}
    seen: dict[str, str] = {}
    folder = OutputFolder(output_dir)
    for item in items:
        try:
            target = folder.join(item.relpath)
        except UnsafePathError as exc:
            targets[item.id] = Problem(item.id, f"{exc}; not written")
            continue
        other = seen.setdefault(os.path.normcase(str(target)), item.id)
        if other != item.id:
            _fail(f"{other} and {item.id} would both be written to {item.relpath}")
        targets[item.id] = target
    inputs: set[tuple[int, int]] = set()
    for item in items:
        if item.path != STDIN:
            try:
                st = os.stat(item.path)
            except OSError:
                continue
            inputs.add((st.st_dev, st.st_ino))
    for item_id, where in targets.items():
        if isinstance(where, Path):
            try:
                st = where.stat()
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in inputs:
                _fail(f"{item_id}: its cleaned copy would overwrite an input ({where}); use --in-place for that")
    return targets


# -- records: JSON Lines and Parquet ---------------------------------------------------------------


def _clean_jsonl(inputs: tuple[str, ...], output: str | None, report_path: str | None, check: bool,
                 text_key: str, id_key: str, on_error: str, settings: Settings, index_path: str | None,
                 jobs: int, messages: Messages) -> None:
    """JSON Lines in, JSON Lines out (stdout or ``-o FILE``, written atomically), in input order."""
    if output and os.path.isdir(output):
        _fail(f"-o {output} is a folder: with --jsonl, -o names the output file")
    problems = Problems(on_error, on_problem=messages.problem)
    dedup = _deduplicator(settings, index_path, messages)
    texts = KeptTexts()
    report = _report_writer(report_path, settings, False)
    sink: ReportWriter | None = None
    if not check:
        sink = ReportWriter(output, "", stream=None if output else _StdoutText())  # type: ignore[arg-type]
    totals = Totals()
    try:
        with _progress(messages) as progress:
            records = read_jsonl(inputs, text_key, id_key, problems=problems)
            for record, result in clean_records(_noting(records, texts, text_key), dedup, text_key,
                                                progress=progress, jobs=jobs):
                totals.add(result)
                if report is not None:
                    report.document(result, texts)
                if sink is not None:
                    sink.raw(json.dumps(cleaned_record(record, result, text_key), ensure_ascii=False))
                elif result.changed:
                    messages.info(f"would clean {record.id} ({len(result.edits)} edit(s))")
        if sink is not None:
            sink.commit()
        _finish_report(report, problems.found, messages)
    except RecordError as exc:
        if sink is not None:
            sink.discard()
        messages.info(f"stopped at the first bad record (--on-error fail): {exc}", "yellow")
        sys.exit(EXIT_PROBLEMS)
    finally:
        for writer in (report, sink):
            if writer is not None:
                writer.discard()
    _finish_cleaning(totals, problems.found, messages, check)


def _noting(records: Iterable[Any], texts: KeptTexts, text_key: str) -> Iterator[Any]:
    for r in records:
        texts.add(r.id, r.fields[text_key])
        yield r


def _clean_parquet(inputs: tuple[str, ...], output: str | None, report_path: str | None, check: bool,
                   text_key: str, id_key: str, on_error: str, settings: Settings, index_path: str | None,
                   jobs: int, messages: Messages) -> None:
    """One Parquet file in, one out (same schema, the text column cleaned), streamed in batches."""
    if len(inputs) != 1 or inputs[0] == STDIN:
        _fail("--parquet takes one Parquet file")
    if not output and not check:
        _fail("--parquet needs -o FILE for the cleaned file (or --check)")
    if output and _same_file(inputs[0], output):
        _fail("-o names the input file: write the cleaned Parquet file elsewhere")
    problems = Problems(on_error, on_problem=messages.problem)
    dedup = _deduplicator(settings, index_path, messages)
    texts = KeptTexts()
    report = _report_writer(report_path, settings, False)
    totals = Totals()
    target = Path(output) if output else None
    tmp = None if target is None else target.with_name(f".{target.name}.dedup-tmp")

    def seen(record: Any, result: DocumentResult) -> None:
        totals.add(result)
        texts.add(record.id, result.document.text)
        if report is not None:
            report.document(result, texts)
        if check and result.changed:
            messages.info(f"would clean {record.id} ({len(result.edits)} edit(s))")

    try:
        scratch = tmp if tmp is not None else Path(os.devnull)
        clean_parquet(inputs[0], scratch, dedup, text_key, id_key, problems=problems, on_result=seen, jobs=jobs)
        if tmp is not None and target is not None:
            os.replace(tmp, target)
        _finish_report(report, problems.found, messages)
    except RecordError as exc:
        messages.problem(exc.problem)
        sys.exit(EXIT_PROBLEMS)
    finally:
        if tmp is not None and tmp.exists():
            tmp.unlink()
        if report is not None:
            report.discard()
    _finish_cleaning(totals, problems.found, messages, check)


# -- scan, restore, report, index -------------------------------------------------------------------


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@read_options
@detection_options
@engine_options
def scan(inputs: tuple[str, ...], pattern: str, encoding: str, max_size: int, follow_symlinks: bool,
         index_path: str | None, jobs: int, quiet: bool, engine: str, spark_master: str, **options: Any) -> None:
    """Write the duplicate clusters of INPUT as JSON Lines on stdout; change nothing.

    Each line is one cluster: the canonical copy with its text, and every member with its
    status (removed or kept, and why), rule and verified score.
    """
    messages = _messages(quiet)
    settings = _settings(options)
    texts: Mapping[str, str]
    if engine == "spark":
        _refuse_for_spark({"--index": index_path, "--encoding": encoding, "--max-file-size": max_size,
                           "--follow-symlinks": follow_symlinks})
        from dedup.spark import run_scan_spark

        result, problems = run_scan_spark(inputs, settings, pattern=pattern, master=spark_master, messages=messages)
        totals, clusters = _totals(result.documents), result.clusters
        texts = {d.document.id: d.document.text for d in result.documents}
    else:
        read = ReadOptions(pattern, encoding, max_size, follow_symlinks)
        items, problems = _discover(inputs, read, messages)
        dedup = _deduplicator(settings, None, messages, clusters=True)
        texts = KeptTexts(_rereader(items, read))
        inflight: dict[str, Loaded] = {}
        totals = Totals()
        with _progress(messages) as progress:
            for doc in dedup.clean(_read_stream(items, read, messages, problems, inflight, texts),
                                   progress=progress, jobs=jobs):
                inflight.pop(doc.document.id)
                totals.add(doc)
        clusters = dedup.clusters()
    terminal = _stdout_is_terminal()
    for c in clusters:
        _stdout_bytes((dumps(cluster_record(c, texts), terminal=terminal) + "\n").encode("utf-8"))
    _summary(totals, problems, messages, "scan")
    messages.info(f"{len(clusters)} cluster(s)")
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


@cli.group()
def index() -> None:
    """Inspect a persistent index (made by clean --index)."""


@index.command("stats")
@click.argument("path", type=click.Path(dir_okay=False, exists=True))
def index_stats(path: str) -> None:
    """What the index at PATH holds, as JSON on stdout: documents, paragraphs, unique keys,
    verified matches, batches, size, and the settings it was built with."""
    try:
        data = stats(path)
    except Exception as exc:  # not a SQLite file, or not an index
        _messages(False).problem(Problem(path, f"not a dedup index: {exc}"))
        sys.exit(EXIT_PROBLEMS)
    _stdout_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def main() -> None:
    cli(prog_name="dedup")
