"""The index's key texts, kept out of the Python heap once their batch is decided.

A million paragraphs held as a million Python strings cost about 1.6 KB each in a long run
(the text, its object header, and the allocator's fragmentation around a million separately
allocated blocks that outlive every batch). Here the texts of decided batches live in an
unlinked temporary file (UTF-8, one offset each) and are read back with ``pread`` when a later
batch verifies or plans against them; what stays in memory per key is its offset and its hash.
Interning never trusts the hash alone: a hit is confirmed by comparing the exact text, so two
different keys with one hash are kept apart (the second is remembered by its text). The hashes
of settled texts live in a sorted numpy array (16 bytes a key instead of about 110 in a dict).

The file also lets worker processes read texts themselves (``share``, ``spans``): a batch's
texts are written to it ahead of settling (``write_through``), and a process forked after the
file was made reads them by offset with ``read_spans`` instead of receiving them pickled.
"""

from __future__ import annotations

import mmap
import os
import tempfile
import warnings
from array import array
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, overload

import numpy as np

# text -> bytes that round-trips every Python str, including lone surrogates from a
# surrogate-escaped decode
_CODEC = ("utf-8", "surrogatepass")
READ_CACHE = 8192  # settled texts kept after a read; bounded, and only a cache


class KeyTexts(Sequence[str]):
    """Key texts by key id: the current batch's in memory, earlier ones in a temporary file."""

    def __init__(self, texts: Iterable[str] = (), directory: str | None = None) -> None:
        self._directory = directory
        self._file: IO[bytes] | None = None  # made on the first settle or share (no file for small runs)
        self._fd = -1
        self._offsets = array("q", [0])  # byte offset of each key in the file, then the end
        self._in_memory = False  # set when the file cannot be written: every text stays in memory
        self._settled = 0  # keys 0 .. _settled-1 are read from the file
        self._written = 0  # keys 0 .. _written-1 are in the file (_written >= _settled)
        self._recent: list[str] = []  # keys _settled .. len-1, in memory
        self._ids: dict[int, int] = {}  # hash of a text in memory -> its key id
        self._hashes = np.zeros(0, dtype=np.int64)  # hashes of settled texts, sorted ...
        self._hash_ids = np.zeros(0, dtype=np.int64)  # ... and their key ids
        self._prefetched: dict[int, int] = {}  # hash -> settled key id, or -1: see prefetch
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
            start, stop, step = i.indices(len(self))
            if step == 1 and start >= self._settled:  # the current batch's keys, as one list slice
                return self._recent[start - self._settled : max(start, stop) - self._settled]
            return [self[k] for k in range(start, stop, step)]
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
        return self._lookup(text, hash(text))[0]

    def add(self, text: str) -> int:
        """Append ``text`` (not a key yet) and return its id."""
        h = hash(text)
        return self._append(text, h, self._id_of_hash(h) is not None)

    def intern(self, text: str) -> tuple[int, bool]:
        """The id of ``text`` and whether it is new (appended now): ``find``, then ``add`` when
        needed, hashing and looking up once."""
        h = hash(text)
        kid, taken = self._lookup(text, h)
        if kid is not None:
            return kid, False
        return self._append(text, h, taken), True

    def _lookup(self, text: str, h: int) -> tuple[int | None, bool]:
        """The id of ``text`` (hash ``h``), None when it is not a key yet; and whether some key
        has that hash."""
        kid = self._id_of_hash(h)
        if kid is None:
            return None, False
        if self[kid] == text:
            return kid, True
        return self._clashes.get(text), True

    def prefetch(self, texts: Iterable[str]) -> None:
        """Look the hashes of ``texts`` (a batch about to be interned) up among the settled keys
        all at once, so that interning each costs dict lookups instead of a binary search."""
        hashes = np.fromiter(map(hash, texts), dtype=np.int64)
        n = len(self._hashes)
        found = np.full(len(hashes), -1, dtype=np.int64)
        if n:
            at = np.minimum(self._hashes.searchsorted(hashes), n - 1)
            hit = self._hashes[at] == hashes
            found[hit] = self._hash_ids[at[hit]]
        self._prefetched = dict(zip(hashes.tolist(), found.tolist(), strict=True))

    def _id_of_hash(self, h: int) -> int | None:
        """The key first interned with hash ``h``, if any."""
        kid = self._ids.get(h)
        if kid is not None:
            return kid
        known = self._prefetched.get(h)
        if known is not None:
            return known if known >= 0 else None
        if len(self._hashes):
            i = int(self._hashes.searchsorted(h))
            if i < len(self._hashes) and self._hashes[i] == h:
                return int(self._hash_ids[i])
        return None

    def _append(self, text: str, h: int, taken: bool) -> int:
        kid = len(self)
        if taken:  # another key has this hash: this one is found by its text
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
            self._write(self._settled + count)
        except OSError as exc:  # no usable temporary directory, or a full disk: keep them here
            self._in_memory = True
            warnings.warn(f"dedup: cannot keep key texts in a temporary file ({exc}); "
                          "keeping them in memory", RuntimeWarning, stacklevel=2)
            return
        self._index_hashes(self._settled + count)
        self._settled += count
        self._recent = self._recent[count:]

    def share(self) -> int | None:
        """The file's descriptor, the file made now if need be, for processes forked after this
        call to read texts from (``read_spans``); None when texts are kept in memory instead."""
        if self._in_memory:
            return None
        try:
            self._open()
        except OSError:
            return None
        return self._fd

    def write_through(self) -> bool:
        """Write every text not in the file yet to it, keeping them in memory too (a batch about
        to be verified by other processes); False when the file cannot be written."""
        if self._in_memory or self._fd < 0:
            return False
        try:
            self._write(len(self))
        except OSError:
            return False
        return True

    def spans(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Start and end byte offsets in the file of key ids ``ids`` (all written through)."""
        if len(ids) and int(ids.max()) >= self._written:
            raise IndexError(f"key {int(ids.max())} is not in the file (written: {self._written})")
        offsets = np.frombuffer(self._offsets, dtype=np.int64)
        return offsets[ids], offsets[ids + 1]

    def _open(self) -> None:
        if self._file is None:
            # unlinked at once: nothing to clean up, and the space returns when the run ends
            self._file = tempfile.TemporaryFile(prefix="dedup-keys-", dir=self._directory)  # noqa: SIM115
            self._fd = self._file.fileno()

    def _write(self, end: int) -> None:
        """Append the texts of ids ``_written .. end-1`` (in memory) to the file."""
        if end <= self._written:
            return
        self._open()
        lo = self._written - self._settled
        blobs = [t.encode(*_CODEC) for t in self._recent[lo : end - self._settled]]
        at = self._offsets[-1]
        ends = np.cumsum(np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))) + at
        data = memoryview(b"".join(blobs))
        while data:  # written in full before any offset points at it
            written = os.pwrite(self._fd, data, at)
            data, at = data[written:], at + written
        self._offsets.frombytes(ends.tobytes())
        self._written = end

    def _index_hashes(self, end: int) -> None:
        """Move the hashes of key ids below ``end`` from the dict to the sorted arrays (merged
        in, not sorted again: linear in the keys so far)."""
        moved = {h: k for h, k in self._ids.items() if k < end}
        if not moved:
            return
        self._ids = {h: k for h, k in self._ids.items() if k >= end}
        self._prefetched = {}  # looked up before these moved
        hashes = np.fromiter(moved.keys(), dtype=np.int64, count=len(moved))
        ids = np.fromiter(moved.values(), dtype=np.int64, count=len(moved))
        order = hashes.argsort()
        hashes, ids = hashes[order], ids[order]
        at = self._hashes.searchsorted(hashes)
        self._hashes = np.insert(self._hashes, at, hashes)
        self._hash_ids = np.insert(self._hash_ids, at, ids)

    @property
    def settled_bytes(self) -> int:
        """Bytes of the settled keys' texts (in the file, and no longer in memory)."""
        return self._offsets[self._settled]

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def file_identity(fd: int) -> tuple[int, int]:
    """(device, inode) of an open file: what a reader checks before it trusts a descriptor."""
    st = os.fstat(fd)
    return st.st_dev, st.st_ino


def read_spans(fd: int, identity: tuple[int, int], starts: np.ndarray, ends: np.ndarray) -> list[str]:
    """Run in a process forked after ``KeyTexts.share``: the texts at the byte spans given
    (``KeyTexts.spans``), from the file behind ``fd``, which must be the file ``identity`` names
    (a descriptor number could name another file in a process not forked from the sharer).

    Read through a mapping of the file, unmapped on return: a ``pread`` a text cost four times
    what unpickling the same texts did; slicing the mapping costs about the same."""
    if file_identity(fd) != identity:
        raise RuntimeError(f"descriptor {fd} is not the key file this process was given")
    end = int(ends.max()) if len(ends) else 0
    if end == 0:  # no text, or only empty ones (a mapping cannot be empty)
        return [""] * len(starts)
    size = os.fstat(fd).st_size
    if end > size:
        raise RuntimeError(f"key file: a span ends at byte {end}, the file has {size}")
    spans = zip(starts.tolist(), ends.tolist(), strict=True)
    try:
        view = mmap.mmap(fd, end, access=mmap.ACCESS_READ)
    except OSError:  # a file system that cannot map files: one read a text
        return [_read_exactly(fd, a, b).decode(*_CODEC) for a, b in spans]
    with view:
        return [view[a:b].decode(*_CODEC) for a, b in spans]


def _read_exactly(fd: int, start: int, end: int) -> bytes:
    data = os.pread(fd, end - start, start)
    if len(data) != end - start:
        raise RuntimeError(f"key file: {len(data)} bytes read at {start}, {end - start} expected")
    return data
