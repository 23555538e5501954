"""What a streaming run needs around the engine: the report written as results arrive, the text
of kept copies for the report, and the running totals for the summary.

Nothing here decides anything; the CLI wires these to ``Deduplicator.clean`` so that memory holds
the index and the documents in flight, never the whole input.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from dedup.model import BOILERPLATE, REMOVE, DocumentResult, Problem
from dedup.render.jsonl import dumps, dumps_unescaped, edit_record, problem_record
from dedup.safe import json_text

# How much recent input text a run keeps to fill in the text of kept copies in the report.
RECENT_CHARS = 1 << 26
# Bytes the report file gathers before each write: at the default 8 KiB, each record (17 KB on
# average on the benchmark corpus) was a write of its own, a system call during which the main
# thread lets go of the GIL and, with --jobs, waits for it again behind the pool's threads.
REPORT_BUFFER = 1 << 20


class KeptTexts(Mapping[str, str]):
    """Document id -> input text, for the ``kept[].text`` of edit records.

    Holds the most recent documents (up to ``RECENT_CHARS`` characters); an older document is
    read again through ``reread`` when it came from a file. A document this cannot produce (an
    earlier batch of standard input or of a record stream, a persistent index from another
    run) is absent, and its kept text is written as null.
    """

    def __init__(self, reread: Callable[[str], str | None] | None = None, limit: int = RECENT_CHARS) -> None:
        self._recent: OrderedDict[str, str] = OrderedDict()
        self._size = 0
        self._limit = limit
        self._reread = reread

    def add(self, doc_id: str, text: str) -> None:
        if doc_id in self._recent:
            self._size -= len(self._recent.pop(doc_id))
        self._recent[doc_id] = text
        self._size += len(text)
        while self._size > self._limit and len(self._recent) > 1:
            _, old = self._recent.popitem(last=False)
            self._size -= len(old)

    def __getitem__(self, doc_id: str) -> str:
        text = self._recent.get(doc_id)
        if text is None and self._reread is not None:
            text = self._reread(doc_id)
            if text is not None:
                self.add(doc_id, text)
        if text is None:
            raise KeyError(doc_id)
        return text

    def __iter__(self) -> Iterator[str]:
        return iter(self._recent)

    def __len__(self) -> int:
        return len(self._recent)


class ReportWriter:
    """Edit records written one by one to a temporary file beside the target, renamed into place
    by ``commit`` (``-`` writes straight to ``stream``). Nothing half-written is left behind."""

    def __init__(self, path: str, fingerprint: str, stream: IO[str] | None = None, durable: bool = False) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self.durable = durable
        self._tmp: str | None = None
        if stream is not None:
            self._out = stream
        else:
            target = Path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, self._tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".dedup-tmp", dir=target.parent)
            self._out = os.fdopen(fd, "w", encoding="utf-8", newline="", buffering=REPORT_BUFFER)

    def document(self, result: DocumentResult, texts: Mapping[str, str], input_sha256: str | None = None,
                 output_sha256: str | None = None) -> None:
        """One document's record (``input_sha256``, ``output_sha256``: the hashes of its text and
        of its cleaned text, when known)."""
        record = edit_record(result, self.fingerprint, texts, input_sha256=input_sha256, output_sha256=output_sha256)
        if self._tmp is None:  # a stream: whatever its encoding does with a lone surrogate, escape it first
            self._out.write(dumps(record) + "\n")
            return
        line = dumps_unescaped(record) + "\n"
        try:
            self._out.write(line)  # strict UTF-8: encoded whole before anything is written, or raises
        except UnicodeEncodeError:  # a lone surrogate (an undecodable file name): escaped, then written
            self._out.write(json_text(line))

    def problem(self, problem: Problem) -> None:
        self._out.write(dumps(problem_record(problem)) + "\n")

    def raw(self, line: str) -> None:
        """Any one line (the writer doubles as an atomic JSON Lines output)."""
        self._out.write(line + "\n")

    def commit(self) -> None:
        self._out.flush()
        if self._tmp is None:
            return
        if self.durable:
            os.fsync(self._out.fileno())
        self._out.close()
        mode = 0o666 & ~_umask()
        with contextlib.suppress(OSError):
            mode = Path(self.path).stat().st_mode & 0o7777
        os.chmod(self._tmp, mode)
        os.replace(self._tmp, self.path)
        self._tmp = None

    def discard(self) -> None:
        if self._tmp is not None:
            self._out.close()
            with contextlib.suppress(OSError):
                os.unlink(self._tmp)
            self._tmp = None


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@dataclass
class Totals:
    """Running totals of a run, for the summary on stderr."""

    documents: int = 0
    changed: int = 0
    paragraphs: int = 0
    removed: int = 0
    removed_chars: int = 0
    rules: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    fixes: Counter[str] = field(default_factory=Counter)
    encodings: Counter[str] = field(default_factory=Counter)
    boilerplate: int = 0
    boilerplate_docs: int = 0

    def add(self, result: DocumentResult) -> None:
        self.documents += 1
        self.changed += result.changed
        self.paragraphs += result.paragraphs
        self.encodings[result.document.encoding] += 1
        if result.boilerplate:
            self.boilerplate += len(result.boilerplate)
            self.boilerplate_docs += 1
        for e in result.edits:
            if e.op == REMOVE:
                self.removed += 1
                self.removed_chars += e.end - e.start
                self.rules[e.rule] += 1
                self.reasons["boilerplate" if e.rule == BOILERPLATE else e.reason] += 1
            else:
                self.fixes.update(e.rule.split("+"))
