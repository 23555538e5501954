"""Rebuild the original files from the cleaned files and their edit records alone.

Matching (documented in ``docs/report.md``): every record names its document (``corpus/a/b.txt``
for a folder input ``corpus``), and ``dedup clean -o OUT`` wrote the cleaned file at its path
relative to the input folder (``OUT/a/b.txt``), or at its name for a file named directly. A
cleaned file found in a folder given here is known by its path relative to that folder; a file
named directly by its path as given. A record takes the cleaned file whose path shares the most
trailing components with its document id (for a file found in a folder, all of that file's
relative path must match; a file named directly needs at least the same name). Ties are broken
by the output hash the record carries. The restored file goes to the output folder at the cleaned
file's relative path (a file named directly: at its name). When a folder is given, the whole run
is restored and every record needs its cleaned file; when only files are named, only their
documents are restored.

Nothing is ever written on a guess: a cleaned file whose sha256 is not the record's output hash,
a rebuilt text whose sha256 is not the record's input hash, a record without a cleaned file, a
cleaned file claimed by two records, or two documents that would be written to one path: each is
a ``Problem`` naming the file, nothing is written for that document, and the others go on.
"""

from __future__ import annotations

import os
import posixpath
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dedup.apply import restore
from dedup.model import Problem
from dedup.readers import STDIN, discover
from dedup.records import DocumentRecord
from dedup.render.jsonl import digest
from dedup.writers import write_atomic

# ``dedup clean - -o OUT`` writes standard input to OUT/stdin.txt; its record's id is "-".
STDIN_NAME = "stdin.txt"


@dataclass(frozen=True, slots=True)
class Cleaned:
    """A cleaned file: where it is, the (posix) path it is known by, and whether it was named
    directly rather than found in a folder."""

    path: str
    name: str
    direct: bool

    @property
    def target(self) -> str:
        """Where its restored file goes under the output folder."""
        return posixpath.basename(self.name) if self.direct else self.name


@dataclass(frozen=True, slots=True)
class Match:
    record: DocumentRecord
    cleaned: Cleaned


@dataclass(slots=True)
class RestoreReport:
    """What ``restore_files`` did: the files it wrote, the documents it refused, and how many
    files found in folders no record claimed (the EDITS file itself often lives there)."""

    restored: list[Match] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unclaimed: int = 0


class RestoreError(ValueError):
    """A cleaned file and a record that do not rebuild the input the record describes."""


def _parts(path: str) -> list[str]:
    return [p for p in path.split("/") if p not in ("", ".")]


def find_cleaned(paths: Iterable[str]) -> tuple[list[Cleaned], list[Problem]]:
    """The cleaned files among ``paths``: files as given, and every file under each folder
    (found as ``clean`` finds inputs, any name; temporary files of interrupted writes skipped)."""
    found: list[Cleaned] = []
    problems: list[Problem] = []
    for raw in paths:
        inputs, missing = discover([raw], "*")
        problems += missing
        direct = not os.path.isdir(raw)
        found += [Cleaned(i.path, posixpath.normpath(i.id) if direct else i.relpath, direct)
                  for i in inputs if not i.path.endswith(".dedup-tmp")]
    return found, problems


def _file_digest(path: str, cache: dict[str, str | None]) -> str | None:
    if path not in cache:
        try:
            cache[path] = digest(Path(path).read_bytes())
        except OSError:
            cache[path] = None
    return cache[path]


@dataclass(slots=True)
class Matching:
    """Records paired with their cleaned files, the records and files refused (``problems``),
    and how many files found in folders no record claimed."""

    matches: list[Match] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    unclaimed: int = 0


def match_records(records: Sequence[DocumentRecord], cleaned: Sequence[Cleaned], every_record: bool = True) -> Matching:
    """Pair records with their cleaned files (see the module docstring). Cleaned files named
    directly that no record claims become problems, and so do records without a cleaned file
    when ``every_record`` (restoring a whole run); otherwise such records are left out."""
    problems: list[Problem] = []
    by_name: dict[str, list[Cleaned]] = defaultdict(list)
    for c in cleaned:
        by_name[posixpath.basename(c.name)].append(c)
    lines_of: dict[str, list[int]] = defaultdict(list)
    for r in records:
        lines_of[r.id].append(r.line)
    hashes: dict[str, str | None] = {}
    chosen: list[Match] = []
    for r in records:
        if len(lines_of[r.id]) > 1:
            where = ", ".join(str(n) for n in lines_of[r.id])
            problems.append(Problem(r.id, f"several records for this document (lines {where}); nothing restored"))
            continue
        doc = _parts(STDIN_NAME if r.id == STDIN else r.id)
        best: list[Cleaned] = []
        best_score = 0
        for c in by_name.get(doc[-1] if doc else "", ()):
            name = _parts(c.name)
            shared = 0
            while shared < min(len(name), len(doc)) and name[-1 - shared] == doc[-1 - shared]:
                shared += 1
            if not c.direct and shared < len(name):
                continue
            if shared > best_score:
                best, best_score = [c], shared
            elif shared == best_score:
                best.append(c)
        if not best:
            if every_record:
                problems.append(Problem(r.id, "no cleaned file for this document under the folders given; "
                                              "nothing restored"))
            continue
        if len(best) > 1:
            same = [c for c in best if _file_digest(c.path, hashes) == r.output.sha256]
            if not same:
                names = ", ".join(c.path for c in best)
                problems.append(Problem(r.id, f"none of {names} is the cleaned file this record describes "
                                              f"(output {r.output.sha256}); nothing restored"))
                continue
            best = same[:1]  # equal hashes: the same cleaned text, whichever is read
        chosen.append(Match(r, best[0]))

    by_file: dict[str, list[Match]] = defaultdict(list)
    by_target: dict[str, list[Match]] = defaultdict(list)
    for m in chosen:
        by_file[m.cleaned.path].append(m)
        by_target[m.cleaned.target].append(m)
    matches: list[Match] = []
    for m in chosen:
        claims = by_file[m.cleaned.path]
        targets = by_target[m.cleaned.target]
        if len(claims) > 1:
            others = ", ".join(o.record.id for o in claims)
            problems.append(Problem(m.cleaned.path, f"claimed by the records of {others}: give the cleaned "
                                                    "folders or files more precisely; nothing restored"))
        elif len(targets) > 1:
            others = ", ".join(o.cleaned.path for o in targets)
            problems.append(Problem(m.cleaned.path, f"{others} would all be restored to {m.cleaned.target}; "
                                                    "nothing restored"))
        else:
            matches.append(m)
    claimed = {m.cleaned.path for m in chosen}
    for c in cleaned:
        if c.direct and c.path not in claimed:
            problems.append(Problem(c.path, "no record in EDITS describes this file; nothing restored"))
    unclaimed = sum(1 for c in cleaned if not c.direct and c.path not in claimed)
    return Matching(matches, problems, unclaimed)


def rebuild(record: DocumentRecord, data: bytes) -> bytes:
    """The original bytes of the document, from its cleaned bytes and its record.

    Checks the cleaned bytes against the record's output hash before anything else and the
    rebuilt text against its input hash; ``RestoreError`` says which check failed.
    """
    found = digest(data)
    if found != record.output.sha256:
        raise RestoreError(f"not the cleaned file the record for {record.id} describes "
                           f"(its sha256 is {found}, the record's output is {record.output.sha256})")
    try:
        cleaned = data.decode("utf-8")
        original = restore(cleaned, [e.edit for e in record.edits])
    except (UnicodeDecodeError, ValueError) as exc:
        raise RestoreError(f"the record for {record.id} does not apply to it: {exc}") from exc
    rebuilt = original.encode("utf-8")
    if digest(rebuilt) != record.input.sha256:
        raise RestoreError(f"the text rebuilt with the record for {record.id} does not have the record's "
                           f"input hash {record.input.sha256}")
    return rebuilt


def restore_files(records: Sequence[DocumentRecord], cleaned_paths: Iterable[str],
                  output_dir: str | os.PathLike[str]) -> RestoreReport:
    """Restore documents of ``records`` from the cleaned files found in ``cleaned_paths`` into
    ``output_dir``: every document when a folder is among them (a whole run), otherwise the
    documents of the files named. Each file is written atomically and only after both hash
    checks; a document that fails any check is named in ``problems`` and nothing is written
    for it."""
    paths = list(cleaned_paths)
    cleaned, problems = find_cleaned(paths)
    matching = match_records(records, cleaned, every_record=any(os.path.isdir(p) for p in paths))
    report = RestoreReport(problems=problems + matching.problems, unclaimed=matching.unclaimed)
    out = Path(output_dir)
    for m in matching.matches:
        try:
            data = rebuild(m.record, Path(m.cleaned.path).read_bytes())
            write_atomic(out / m.cleaned.target, data)
        except RestoreError as exc:
            report.problems.append(Problem(m.cleaned.path, f"{exc}; nothing restored"))
        except OSError as exc:
            report.problems.append(Problem(exc.filename or m.cleaned.path, f"{exc.strerror or exc}; nothing restored"))
        else:
            report.restored.append(m)
    return report
