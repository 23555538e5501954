"""Safe file output: atomic replacement, and paths that cannot leave the output folder.

``write_atomic`` writes a temporary file beside the target (``.NAME.XXXXXXXX.dedup-tmp``), then
renames it over the target: a reader, or a run killed at any instant (SIGKILL included), sees
either the old file or the complete new one, never part of one. With ``durable`` (the default; the
command line uses it for ``--in-place``, where the file replaced is the only copy of the input) the
temporary file is flushed to disk first, so a power cut cannot leave an empty file either. A kill
can leave the temporary file behind; discovery never reads such files as input (``is_temp_name``),
and they are safe to delete when no dedup is running.

``safe_join`` turns a relative path that came from the input (a file's path under its folder, a
record id) into a path under the output folder, and refuses anything that would land outside it.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Generic, TypeVar

TEMP_SUFFIX = ".dedup-tmp"
_TEXT_BLOCK = 1 << 20  # characters encoded at a time by write_atomic
_TEMP_NAME_BYTES = 100  # of the target's name kept in the temporary name (NAME_MAX is 255 bytes)
_SEPARATORS = re.compile(r"[/\\]" if os.sep == "\\" or os.altsep else r"/")


T = TypeVar("T")
# Files handed to the writing thread and not written yet: at most this many, holding at most
# this many characters (or bytes) between them, unless a single one is larger. A batch's results
# come at once (about 150 files of the benchmark's 54 KB), so a budget smaller than a batch made
# the main thread wait for the disk in every batch.
WRITES_IN_FLIGHT = 1024
WRITE_SIZE_IN_FLIGHT = 1 << 25


class UnsafePathError(ValueError):
    """A relative path from the input that would write outside the output folder."""


def is_temp_name(name: str) -> bool:
    """A temporary file of ``write_atomic``'s (left behind if a run was killed)."""
    return name.startswith(".") and name.endswith(TEMP_SUFFIX)


def safe_join(base: str | os.PathLike[str], relpath: str) -> Path:
    """``base / relpath`` when that stays inside ``base``; ``UnsafePathError`` otherwise.

    Refused: an empty path, NUL, an absolute path or a drive, and any ``..`` component (an id
    such as ``../../etc/passwd`` is never normalised into something else: it is refused). ``.``
    and empty components are dropped. The joined path is then resolved, so a symlink already
    inside ``base`` cannot lead out of it either. ``OutputFolder`` does the same for many paths.
    """
    return OutputFolder(base).join(relpath)


class OutputFolder:
    """``safe_join`` for many paths under one folder, resolving the folder and each parent once."""

    def __init__(self, base: str | os.PathLike[str]) -> None:
        self.base = Path(base)
        real = os.path.realpath(base)
        self._prefix = real.rstrip(os.sep) + os.sep
        self._parents: dict[Path, bool] = {}

    def join(self, relpath: str) -> Path:
        joined = Path(self.base).joinpath(*_parts(relpath))
        inside = self._parents.get(joined.parent)
        if inside is None:
            parent = os.path.realpath(joined.parent) + os.sep
            inside = self._parents[joined.parent] = parent.startswith(self._prefix)
        if not inside:  # (a link at the file itself is harmless: the rename replaces the link)
            raise UnsafePathError(f"output path {relpath!r} resolves outside the output folder")
        return joined


def _parts(relpath: str) -> list[str]:
    if not relpath or "\x00" in relpath:
        raise UnsafePathError(f"unusable output path {relpath!r}")
    if PurePosixPath(relpath).is_absolute() or PureWindowsPath(relpath).drive or relpath.startswith("\\"):
        raise UnsafePathError(f"absolute output path {relpath!r}")
    parts = _SEPARATORS.split(relpath)
    if ".." in parts:
        raise UnsafePathError(f"output path {relpath!r} leaves the output folder")
    parts = [p for p in parts if p not in ("", ".")]
    if not parts:
        raise UnsafePathError(f"unusable output path {relpath!r}")
    return parts


def write_atomic(path: str | os.PathLike[str], data: bytes | str | Iterable[str], mode: int | None = None,
                 durable: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically, creating parent folders as needed.

    ``data`` is bytes, or text written as UTF-8 (encoded a block at a time, so a large text is
    never held twice), or an iterable of texts written one after the other (a report, a record at
    a time). ``mode`` sets the permissions of the new file; by default an existing file
    keeps its own permissions (and, where the process may set them, its owner and group).
    ``durable`` flushes the data to disk before the rename (see the module docstring).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    owner: tuple[int, int] | None = None
    try:
        st = target.stat()
        owner = (st.st_uid, st.st_gid)
        if mode is None:
            mode = st.st_mode & 0o7777
    except OSError:
        if mode is None:
            mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{_short_name(target.name)}.", suffix=TEMP_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, bytes):
                fh.write(data)
            else:
                for text in [data] if isinstance(data, str) else data:
                    for i in range(0, len(text), _TEXT_BLOCK):
                        fh.write(text[i : i + _TEXT_BLOCK].encode("utf-8"))
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if owner is not None and hasattr(os, "chown"):
            with contextlib.suppress(OSError):
                os.chown(tmp, *owner)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _short_name(name: str) -> str:
    """At most ``_TEMP_NAME_BYTES`` bytes of ``name``, so the temporary name stays a valid name."""
    raw = os.fsencode(name)
    return name if len(raw) <= _TEMP_NAME_BYTES else os.fsdecode(raw[:_TEMP_NAME_BYTES])


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    write_atomic(path, text)


class BackgroundWrites(Generic[T]):
    """File writes done by one thread beside the main one, their outcomes returned in the order
    they were asked for.

    Creating a file is kernel work (0.1-0.35 ms a file on the ext4 disk of the benchmark
    machine; 1 s or more for a folder of 9,600 files) during which Python releases the GIL: the
    main thread goes on cleaning meanwhile. At most ``limit`` writes wait at a time, so the texts
    in flight stay bounded. Each write is tagged; ``submit`` and ``finish`` return the
    ``(tag, outcome)`` of writes done since, oldest first. An exception a write raises is raised
    again there, in the main thread.
    """

    def __init__(self, limit: int = WRITES_IN_FLIGHT, size_limit: int = WRITE_SIZE_IN_FLIGHT) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dedup-write")
        self._pending: deque[tuple[int, Future[T], int]] = deque()
        self._limit = limit
        self._size_limit = size_limit
        self._size = 0  # of the writes pending

    def submit(self, tag: int, write: Callable[[], T], size: int = 0) -> list[tuple[int, T]]:
        """Ask for a write (``size``: the length of what it writes, for the budget)."""
        self._pending.append((tag, self._pool.submit(write), size))
        self._size += size
        return self._outcomes(wait_all=False)

    def finish(self) -> list[tuple[int, T]]:
        """Wait for every write asked for; their outcomes, oldest first."""
        return self._outcomes(wait_all=True)

    def _outcomes(self, wait_all: bool) -> list[tuple[int, T]]:
        """The outcomes of the oldest writes that are done (waiting for the oldest while more
        than ``limit`` are pending or they hold more than ``size_limit``, or for all of them with
        ``wait_all``)."""
        done: list[tuple[int, T]] = []
        while self._pending and (wait_all or len(self._pending) > self._limit or self._size > self._size_limit
                                 or self._pending[0][1].done()):
            tag, future, size = self._pending.popleft()
            self._size -= size
            done.append((tag, future.result()))
        return done

    def close(self) -> None:
        """Stop the thread: writes not started yet are dropped (after a failure elsewhere), one
        being written ends first (it is atomic either way)."""
        self._pending.clear()
        self._size = 0
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> BackgroundWrites[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
