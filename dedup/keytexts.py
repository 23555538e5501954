"""The index's key texts, kept out of the Python heap once their batch is decided.

A million paragraphs held as a million Python strings cost about 1.6 KB each in a long run
(the text, its object header, and the allocator's fragmentation around a million separately
allocated blocks that outlive every batch). Here the texts of decided batches live in an
unlinked temporary file (UTF-8, one offset each) and are read back with ``pread`` when a later
batch verifies or plans against them; what stays in memory per key is its offset and its hash.
Interning never trusts the hash alone: a hit is confirmed by comparing the exact text, so two
different keys with one hash are kept apart (the second is remembered by its text).
"""

from __future__ import annotations

import os
import tempfile
import warnings
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, overload

# text -> bytes that round-trips every Python str, including lone surrogates from a
# surrogate-escaped decode
_CODEC = ("utf-8", "surrogatepass")
READ_CACHE = 8192  # settled texts kept after a read; bounded, and only a cache


class KeyTexts(Sequence[str]):
    """Key texts by key id: the current batch's in memory, earlier ones in a temporary file."""

    def __init__(self, texts: Iterable[str] = (), directory: str | None = None) -> None:
        self._directory = directory
        self._file: IO[bytes] | None = None  # created on the first settle (no file for small runs)
        self._fd = -1
        self._offsets = array("q", [0])  # byte offset of each settled key, then the end
        self._in_memory = False  # set when the file cannot be written: every text stays in memory
        self._settled = 0  # keys 0 .. _settled-1 are in the file
        self._recent: list[str] = []  # keys _settled .. len-1
        self._ids: dict[int, int] = {}  # hash of a text -> its key id
        self._read: dict[int, str] = {}  # recently read settled texts (planning rereads its neighbours)
        self._clashes: dict[str, int] = {}  # texts whose hash an earlier, different key has
        for text in texts:
            self.add(text)

    # -- sequence --------------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._settled + len(self._recent)

    @overload
    def __getitem__(self, i: int) -> str: ...

    @overload
    def __getitem__(self, i: slice) -> list[str]: ...

    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i >= self._settled:  # the current batch's keys: the hot path
            return self._recent[i - self._settled]
        k = i + len(self) if i < 0 else i
        if k >= self._settled:
            return self._recent[k - self._settled]
        if k < 0:
            raise IndexError(i)
        text = self._read.get(k)
        if text is None:
            if len(self._read) >= READ_CACHE:
                self._read.clear()
            start = self._offsets[k]
            text = self._read[k] = os.pread(self._fd, self._offsets[k + 1] - start, start).decode(*_CODEC)
        return text

    def __iter__(self) -> Iterator[str]:
        for k in range(len(self)):
            yield self[k]

    # -- interning -------------------------------------------------------------------------------

    def find(self, text: str) -> int | None:
        """The id of ``text``, or None when it is not a key yet."""
        kid = self._ids.get(hash(text))
        if kid is None:
            return None
        if self[kid] == text:
            return kid
        return self._clashes.get(text)

    def add(self, text: str) -> int:
        """Append ``text`` (not a key yet) and return its id."""
        kid = len(self)
        h = hash(text)
        if h in self._ids:
            self._clashes[text] = kid
        else:
            self._ids[h] = kid
        self._recent.append(text)
        return kid

    # -- memory ----------------------------------------------------------------------------------

    def settle(self, end: int | None = None) -> None:
        """Move the texts held in memory (those of ids below ``end``, if given) to the file
        (called when a batch is decided; a batch opened after it keeps its texts at hand)."""
        count = len(self._recent) if end is None else max(0, min(end - self._settled, len(self._recent)))
        if not count or self._in_memory:
            return
        try:
            self._write_recent(count)
        except OSError as exc:  # no usable temporary directory, or a full disk: keep them here
            self._in_memory = True
            warnings.warn(f"dedup: cannot keep key texts in a temporary file ({exc}); "
                          "keeping them in memory", RuntimeWarning, stacklevel=2)

    def _write_recent(self, count: int) -> None:
        if self._file is None:
            # unlinked at once: nothing to clean up, and the space returns when the run ends
            self._file = tempfile.TemporaryFile(prefix="dedup-keys-", dir=self._directory)  # noqa: SIM115
            self._fd = self._file.fileno()
        blobs = [t.encode(*_CODEC) for t in self._recent[:count]]
        at = end = self._offsets[-1]
        ends = array("q")
        for b in blobs:
            end += len(b)
            ends.append(end)
        data = memoryview(b"".join(blobs))
        while data:  # written in full before any offset points at it
            written = os.pwrite(self._fd, data, at)
            data, at = data[written:], at + written
        self._offsets.extend(ends)
        self._settled += count
        self._recent = self._recent[count:]

    @property
    def settled_bytes(self) -> int:
        """Bytes of key text in the file."""
        return self._offsets[-1]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
