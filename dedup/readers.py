"""Inputs -> documents: files, folders walked in sorted order, or standard input.

Reading never stops at a bad file: each one that cannot be used becomes a ``Problem`` naming the
file (and the line, for bytes that do not decode) and the others are read as usual.
"""

from __future__ import annotations

import fnmatch
import os
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from dedup.model import Document, Problem

STDIN = "-"


@dataclass(frozen=True, slots=True)
class Input:
    """A document to read: where from, its id, and where its cleaned copy goes under ``-o``."""

    path: str  # filesystem path, or "-" for standard input
    id: str
    relpath: str


@dataclass(frozen=True, slots=True)
class Loaded:
    """A readable input: its document and its raw bytes' facts."""

    input: Input
    document: Document


def _posix(path: str) -> str:
    return path.replace(os.sep, "/")


def discover(paths: Iterable[str], pattern: str = "*.txt") -> tuple[list[Input], list[Problem]]:
    """Expand the command-line inputs into files. Folders are walked recursively in sorted order
    and filtered by ``pattern`` (a glob on the file name); files named directly are always taken."""
    found: list[Input] = []
    problems: list[Problem] = []
    for raw in paths:
        if raw == STDIN:
            found.append(Input(STDIN, STDIN, "stdin.txt"))
            continue
        try:
            st = os.stat(raw)
        except OSError as exc:
            problems.append(Problem(raw, exc.strerror or str(exc)))
            continue
        if stat.S_ISDIR(st.st_mode):
            base = raw.rstrip("/\\") or raw
            files = sorted((_posix(os.path.relpath(full, base)), full) for full in _walk(base, pattern, problems))
            found.extend(Input(full, _posix(os.path.join(base, rel)), rel) for rel, full in files)
        elif stat.S_ISREG(st.st_mode):
            found.append(Input(raw, _posix(raw), os.path.basename(raw)))
        else:
            problems.append(Problem(raw, "not a regular file or folder"))
    return found, problems


def _walk(base: str, pattern: str, problems: list[Problem]) -> Iterator[str]:
    def onerror(exc: OSError) -> None:
        problems.append(Problem(exc.filename or base, exc.strerror or str(exc)))

    for dirpath, dirnames, filenames in os.walk(base, onerror=onerror):
        dirnames.sort()
        for name in sorted(filenames):
            if fnmatch.fnmatch(name, pattern):
                yield os.path.join(dirpath, name)


def decode(data: bytes, source: str) -> str | Problem:
    """UTF-8 text, or a problem that says where the first bad byte is."""
    nul = data.find(b"\x00")
    if nul >= 0:
        return Problem(source, f"binary file (NUL byte at offset {nul}); skipped",
                       data.count(b"\n", 0, nul) + 1)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return Problem(source, f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); skipped",
                       line)


def read_inputs(inputs: Iterable[Input], stdin: BinaryIO | None = None) -> tuple[list[Loaded], list[Problem]]:
    """Read and decode every input; unreadable or undecodable ones become problems."""
    loaded: list[Loaded] = []
    problems: list[Problem] = []
    for item in inputs:
        try:
            if item.path == STDIN:
                stream = stdin if stdin is not None else sys.stdin.buffer
                data = stream.read()
                source = "<stdin>"
            else:
                data = Path(item.path).read_bytes()
                source = item.path
        except OSError as exc:
            problems.append(Problem(item.path, exc.strerror or str(exc)))
            continue
        text = decode(data, source)
        if isinstance(text, Problem):
            problems.append(text)
            continue
        loaded.append(Loaded(item, Document(item.id, text, source)))
    return loaded, problems
