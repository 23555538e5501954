"""Safe file output: atomic replacement, and paths that cannot leave the output folder.

``write_atomic`` writes a temporary file beside the target (``.NAME.XXXXXXXX.dedup-tmp``), flushes
it to disk, then renames it over the target: a reader, or a run killed at any instant (SIGKILL
included), sees either the old file or the complete new one, never part of one. A kill can leave
the temporary file behind; discovery never reads such files as input (``is_temp_name``), and they
are safe to delete when no dedup is running.

``safe_join`` turns a relative path that came from the input (a file's path under its folder, a
record id) into a path under the output folder, and refuses anything that would land outside it.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from pathlib import Path, PurePosixPath, PureWindowsPath

TEMP_SUFFIX = ".dedup-tmp"
_TEMP_NAME_BYTES = 100  # of the target's name kept in the temporary name (NAME_MAX is 255 bytes)
_SEPARATORS = re.compile(r"[/\\]" if os.sep == "\\" or os.altsep else r"/")


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
    inside ``base`` cannot lead out of it either.
    """
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
    joined = Path(base).joinpath(*parts)
    real_base = os.path.realpath(base)
    real = os.path.realpath(joined)
    if real == real_base or not real.startswith(real_base.rstrip(os.sep) + os.sep):
        raise UnsafePathError(f"output path {relpath!r} resolves outside the output folder")
    return joined


def write_atomic(path: str | os.PathLike[str], data: bytes, mode: int | None = None) -> None:
    """Replace ``path`` with ``data`` atomically, creating parent folders as needed.

    ``mode`` sets the permissions of the new file; by default an existing file keeps its own
    permissions (and, where the process may set them, its owner and group).
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
            fh.write(data)
            fh.flush()
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
    write_atomic(path, text.encode("utf-8"))
