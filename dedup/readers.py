"""Inputs -> documents: files, folders walked in sorted order, or standard input.

Reading never stops at a bad input: each one that cannot be used becomes a ``Problem`` naming the
file (and the line and byte offset, for bytes that do not decode) and the others are read as usual.

Walking a folder (``discover``) is iterative (no recursion limit, however deep the tree) and:

- does not follow symbolic links unless asked: a link to something inside the input folder is
  skipped with a note (its target is read under its own name), a link that leads outside it is a
  problem ("use --follow-symlinks"); broken links and link loops are problems. When links are
  followed, a folder is never walked twice, and a link back to one of its own ancestors is a
  problem (a loop), not an endless walk;
- skips FIFOs, sockets and devices that match the pattern, as problems (reading one could block
  forever or never end);
- never enters an excluded folder (the output folder, when it lies inside an input folder) and
  never reads an excluded file (the report), nor the temporary files of an interrupted run;
- reads a file reached under two names (a hard link, a link, a folder named twice) once.

Reading (``read_inputs``) opens without blocking, checks the file is still a regular file, skips
files over the size limit before reading them, and compares the file's size and time before and
after reading: a file that changes or disappears during the run is a problem, never a crash or a
torn read. ``Loaded.stamp`` lets the writer check, before replacing a file, that it has not changed
since (``unchanged_since``).
"""

from __future__ import annotations

import codecs
import errno
import fnmatch
import hashlib
import io
import os
import stat
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from dedup.model import Document, Problem
from dedup.writers import is_temp_name

STDIN = "-"
AUTO = "auto"
UTF8 = "utf-8"
DEFAULT_MAX_FILE_SIZE = 256 * 1024 * 1024
# Byte-order marks recognised by ``--encoding auto`` (UTF-32 first: its LE mark starts with UTF-16's).
# The decoded text keeps the mark as U+FEFF, so it round-trips to the same bytes.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WIDE = ("utf-16", "utf-32")  # codecs in which NUL bytes are ordinary


@dataclass(frozen=True, slots=True)
class Input:
    """A document to read: where from, its id, and where its cleaned copy goes under ``-o``."""

    path: str  # filesystem path, or "-" for standard input
    id: str
    relpath: str


@dataclass(frozen=True, slots=True)
class Stamp:
    """A file's identity and state when it was read."""

    dev: int
    ino: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> Stamp:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@dataclass(frozen=True, slots=True)
class Loaded:
    """A readable input: its document, the file's state when read (None for stdin), whether
    its encoding was detected (``--encoding auto``) rather than given, and ``sha256:`` with the
    SHA-256 of the bytes read when they are the UTF-8 of the text (decoded as UTF-8, which is
    then lossless): the edit record's input hash, without encoding the text again."""

    input: Input
    document: Document
    stamp: Stamp | None = None
    detected: bool = False
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str  # Python's canonical codec name, e.g. "utf-8", "cp1252"
    detected: bool = False


def codec_name(encoding: str) -> str:
    """The canonical name of a text codec (``LookupError`` if there is none), or ``auto``."""
    if encoding.lower() == AUTO:
        return AUTO
    info = codecs.lookup(encoding)
    if not getattr(info, "_is_text_encoding", True):  # hex, base64, rot13, zlib: not bytes -> text
        raise LookupError(f"{encoding!r} is not a text encoding")
    return info.name


def _posix(path: str) -> str:
    return path.replace(os.sep, "/")


def _os_problem(path: str, exc: OSError, what: str = "") -> Problem:
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ELOOP:
        reason = "symlink loop (too many levels of symbolic links)"
    return Problem(path, f"{what}{reason}; skipped")


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def discover(paths: Iterable[str], pattern: str = "*.txt", *, follow_symlinks: bool = False,
             exclude: Iterable[str] = (), notes: list[str] | None = None) -> tuple[list[Input], list[Problem]]:
    """Expand the command-line inputs into files. Folders are walked recursively in sorted order
    and filtered by ``pattern`` (a glob on the file name); files named directly are always taken
    (links named directly are followed). ``exclude`` lists folders and files never to read;
    ``notes`` collects what was skipped without being a problem. See the module docstring."""
    found: list[Input] = []
    problems: list[Problem] = []
    notes = notes if notes is not None else []
    excluded: set[tuple[int, int]] = set()
    for path in exclude:
        try:
            st = os.stat(path)
        except OSError:
            continue
        excluded.add((st.st_dev, st.st_ino))
    first_name: dict[tuple[int, int], str] = {}

    def add(item: Input, st: os.stat_result) -> None:
        key = (st.st_dev, st.st_ino)
        if key in excluded:
            notes.append(f"{item.id}: the output or report file itself; not read")
            return
        other = first_name.get(key)
        if other is not None:
            if other != item.id:
                notes.append(f"{item.id}: the same file as {other}; read once")
            return
        first_name[key] = item.id
        found.append(item)

    for raw in paths:
        if raw == STDIN:
            found.append(Input(STDIN, STDIN, "stdin.txt"))
            continue
        try:
            st = os.stat(raw)
        except OSError as exc:
            problems.append(Problem(raw, exc.strerror or str(exc)) if exc.errno == errno.ENOENT
                            else _os_problem(raw, exc))
            continue
        if stat.S_ISDIR(st.st_mode):
            if (st.st_dev, st.st_ino) in excluded:
                notes.append(f"{raw}: the output folder; not read")
                continue
            base = raw.rstrip("/\\") or raw
            walker = _Walker(base, pattern, follow_symlinks, excluded, problems, notes)
            for rel, full, fst in sorted(walker.files(st)):
                add(Input(full, _posix(os.path.join(base, rel)), rel), fst)
        elif stat.S_ISREG(st.st_mode):
            add(Input(raw, _posix(raw), os.path.basename(raw)), st)
        else:
            problems.append(Problem(raw, f"not a regular file or folder ({_kind(st.st_mode)}); skipped"))
    return found, problems


class _Walker:
    """One folder's files, by an explicit stack (see the module docstring for the rules)."""

    def __init__(self, base: str, pattern: str, follow: bool, excluded: set[tuple[int, int]],
                 problems: list[Problem], notes: list[str]) -> None:
        self.base = base
        self.real_base = os.path.realpath(base)
        self.pattern = pattern
        self.follow = follow
        self.excluded = excluded
        self.problems = problems
        self.notes = notes
        self.temps: list[str] = []

    def _inside(self, real: str) -> bool:
        return real == self.real_base or real.startswith(self.real_base.rstrip(os.sep) + os.sep)

    def files(self, base_stat: os.stat_result) -> list[tuple[str, str, os.stat_result]]:
        """(relative path in POSIX form, path, stat) of every file to read."""
        out: list[tuple[str, str, os.stat_result]] = []
        visited = {(base_stat.st_dev, base_stat.st_ino)}
        stack: list[tuple[str, str]] = [(self.base, "")]
        while stack:
            folder, rel = stack.pop()
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name, reverse=True)
            except OSError as exc:
                self.problems.append(_os_problem(folder, exc, "cannot list folder: "))
                continue
            for entry in entries:
                full = entry.path
                relpath = f"{rel}/{entry.name}" if rel else entry.name
                try:
                    if entry.is_symlink():
                        self._link(entry, folder, relpath, visited, stack, out)
                    elif entry.is_dir(follow_symlinks=False):
                        try:
                            st = entry.stat(follow_symlinks=False)
                        except OSError as exc:
                            self.problems.append(_os_problem(full, exc, "cannot list folder: "))
                            continue
                        key = (st.st_dev, st.st_ino)
                        if key in self.excluded:
                            self.notes.append(f"{_posix(full)}: the output folder; not read")
                        elif key not in visited:
                            visited.add(key)
                            stack.append((full, relpath))
                    elif is_temp_name(entry.name):
                        self.temps.append(_posix(full))
                    elif fnmatch.fnmatch(entry.name, self.pattern):
                        st = entry.stat(follow_symlinks=False)
                        if stat.S_ISREG(st.st_mode):
                            out.append((relpath, full, st))
                        else:
                            self.problems.append(Problem(full, f"{_kind(st.st_mode)}, not a regular file; skipped"))
                except OSError as exc:
                    self.problems.append(_os_problem(full, exc))
        if self.temps:
            self.notes.append(f"{len(self.temps)} temporary file(s) left by an interrupted run ignored, e.g. "
                              f"{self.temps[0]} (safe to delete when no dedup is running)")
        return out

    def _link(self, entry: os.DirEntry[str], folder: str, relpath: str, visited: set[tuple[int, int]],
              stack: list[tuple[str, str]], out: list[tuple[str, str, os.stat_result]]) -> None:
        full = entry.path
        matches = fnmatch.fnmatch(entry.name, self.pattern)
        try:
            st = os.stat(full)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                self.problems.append(Problem(full, "symlink loop (too many levels of symbolic links); skipped"))
            elif matches:
                what = "broken symlink (its target does not exist)" if exc.errno == errno.ENOENT else exc.strerror
                self.problems.append(Problem(full, f"{what}; skipped"))
            return
        is_dir = stat.S_ISDIR(st.st_mode)
        if not is_dir and not matches:
            return
        target = os.path.realpath(full)
        if not self.follow:
            if self._inside(target):
                self.notes.append(f"{_posix(full)}: symlink inside the input, not followed "
                                  "(its target is read as itself)")
            else:
                self.problems.append(Problem(full, f"symlink to {target}, outside the input folder; skipped "
                                                   "(--follow-symlinks reads it)"))
            return
        key = (st.st_dev, st.st_ino)
        if key in self.excluded:
            return
        if is_dir:
            if key in visited:
                real_folder = os.path.realpath(folder)
                if real_folder == target or real_folder.startswith(target.rstrip(os.sep) + os.sep):
                    self.problems.append(Problem(full, f"symlink loop: points to its own ancestor {target}; "
                                                       "not followed"))
                else:
                    self.notes.append(f"{_posix(full)}: symlink to a folder already read; not followed")
                return
            visited.add(key)
            stack.append((full, relpath))
        elif stat.S_ISREG(st.st_mode):
            out.append((relpath, full, st))
        else:
            self.problems.append(Problem(full, f"symlink to {_kind(st.st_mode)}, not a regular file; skipped"))


def decode(data: bytes, source: str, encoding: str = UTF8) -> Decoded | Problem:
    """The text of ``data``, or a problem that says where the first bad byte is.

    ``encoding`` is a codec name or ``auto``: a byte-order mark, else UTF-8, else what
    charset-normalizer detects. NUL bytes mean a binary file (except in UTF-16 and UTF-32).
    A codec other than UTF-8 must give back exactly ``data`` when the text is encoded again,
    so the edit records (which name the codec) rebuild the original bytes.
    """
    detected = False
    codec = UTF8 if encoding == AUTO else codec_name(encoding)
    if encoding == AUTO:
        bom = next((name for mark, name in _BOMS if data.startswith(mark)), None)
        if bom is not None:
            codec, detected = bom, bom != UTF8
        elif data.find(b"\x00") < 0:
            try:
                return Decoded(data.decode(UTF8), UTF8)
            except UnicodeDecodeError as exc:
                guess = _detect(data)
                if guess is None:
                    return _decode_problem(source, data, UTF8, exc.start,
                                           "not UTF-8 and no encoding could be detected")
                codec, detected = guess, True
    wide = codec.startswith(_WIDE)
    if not wide:
        nul = data.find(b"\x00")
        if nul >= 0:
            return Problem(source, f"binary file (NUL byte at offset {nul}); skipped",
                           data.count(b"\n", 0, nul) + 1, nul)
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as exc:
        label = "UTF-8" if codec == UTF8 else codec
        hint = ", try --encoding auto" if encoding != AUTO else ""
        return _decode_problem(source, data, codec, exc.start, f"not valid {label}", hint)
    if wide:
        nul = text.find("\x00")
        if nul >= 0:
            offset = len(text[:nul].encode(codec))
            return Problem(source, f"binary file (NUL character at byte offset {offset}); skipped",
                           text.count("\n", 0, nul) + 1, offset)
    if codec != UTF8 and text.encode(codec) != data:
        return Problem(source, f"decoding as {codec} does not give back the same bytes when encoded again; skipped")
    return Decoded(text, codec, detected)


def _decode_problem(source: str, data: bytes, codec: str, offset: int, what: str, hint: str = "") -> Problem:
    if codec.startswith(_WIDE):
        line = data[:offset].decode(codec, "replace").count("\n") + 1
    else:
        line = data.count(b"\n", 0, offset) + 1
    byte = f"byte 0x{data[offset]:02x} at offset {offset}" if offset < len(data) else f"end of data at {offset}"
    return Problem(source, f"{what} ({byte}); skipped{hint}", line, offset)


def _detect(data: bytes) -> str | None:
    """charset-normalizer's best guess, as a canonical codec name."""
    from charset_normalizer import from_bytes  # imported only when needed: it is slow to import

    best = from_bytes(data).best()
    if best is None:
        return None
    try:
        return codec_name(best.encoding)
    except LookupError:
        return None


def _read_file(path: str, max_size: int) -> tuple[bytes, os.stat_result] | Problem:
    """The bytes of a regular file, read without following it if it turns into something else."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return Problem(path, "disappeared before it could be read; skipped")
        return _os_problem(path, exc)
    with io.FileIO(fd, "rb", closefd=True) as fh:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            return Problem(path, f"{_kind(before.st_mode)}, not a regular file; skipped")
        if max_size and before.st_size > max_size:
            return _too_large(path, before.st_size, max_size)
        chunks: list[bytes] = []
        size = 0
        want = before.st_size + 1  # one byte more shows a file that grew
        while size < want:
            chunk = fh.read(want - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        after = os.fstat(fd)
    if size != before.st_size or (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        return Problem(path, "changed while it was being read; skipped")
    return data, before


def _too_large(source: str, size: int | None, max_size: int) -> Problem:
    """``size`` None: a stream, read only up to one byte past the limit."""
    have = "more than" if size is None else f"{size:,} bytes >"
    return Problem(source, f"larger than --max-file-size ({have} {format_size(max_size)}); skipped")


def format_size(n: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= factor and n % factor == 0:
            return f"{n // factor} {unit}"
    return f"{n:,} bytes"


def parse_size(text: str) -> int:
    """A size in bytes from ``123``, ``10K``, ``10M``, ``1.5G``, ``10MiB``, ``10MB`` (all binary
    multiples); ``0`` means no limit. ``ValueError`` for anything else."""
    s = text.strip().upper().removesuffix("IB").removesuffix("B")
    factor = 1
    if s and s[-1] in "KMGT":
        factor = 1 << (10 * ("KMGT".index(s[-1]) + 1))
        s = s[:-1]
    try:
        value = float(s)
    except ValueError:
        raise ValueError(f"not a size: {text!r} (use e.g. 500K, 10M, 1G)") from None
    if value < 0 or value != value or value * factor > 1 << 62:
        raise ValueError(f"not a size: {text!r}")
    return int(value * factor)


def unchanged_since(path: str, stamp: Stamp) -> bool:
    """Whether ``path`` is still the file that was read, unmodified."""
    try:
        return Stamp.of(os.stat(path)) == stamp
    except OSError:
        return False


def read_inputs(inputs: Iterable[Input], stdin: BinaryIO | None = None, *, encoding: str = UTF8,
                max_size: int = DEFAULT_MAX_FILE_SIZE) -> tuple[list[Loaded], list[Problem]]:
    """Read and decode every input; unreadable, oversized or undecodable ones become problems.
    ``max_size`` 0 means no limit."""
    loaded: list[Loaded] = []
    problems: list[Problem] = []
    for got in iter_inputs(inputs, stdin, encoding=encoding, max_size=max_size):
        if isinstance(got, Problem):
            problems.append(got)
        else:
            loaded.append(got)
    return loaded, problems


def iter_inputs(inputs: Iterable[Input], stdin: BinaryIO | None = None, *, encoding: str = UTF8,
                max_size: int = DEFAULT_MAX_FILE_SIZE) -> Iterator[Loaded | Problem]:
    """``read_inputs`` one input at a time, lazily: memory holds one file, not the whole input."""
    for item in inputs:
        yield read_input(item, stdin, encoding=encoding, max_size=max_size)


def read_input(item: Input, stdin: BinaryIO | None = None, *, encoding: str = UTF8,
               max_size: int = DEFAULT_MAX_FILE_SIZE) -> Loaded | Problem:
    """Read and decode one input, or say why it cannot be."""
    stamp: Stamp | None = None
    if item.path == STDIN:
        source = "<stdin>"
        stream = stdin if stdin is not None else sys.stdin.buffer
        try:
            data = stream.read(max_size + 1) if max_size else stream.read()
        except OSError as exc:
            return _os_problem(source, exc)
        if max_size and len(data) > max_size:
            return _too_large(source, None, max_size)
    else:
        source = item.path
        got = _read_file(item.path, max_size)
        if isinstance(got, Problem):
            return got
        data, st = got
        stamp = Stamp.of(st)
    text = decode(data, source, encoding)
    if isinstance(text, Problem):
        return text
    raw_hash = "sha256:" + hashlib.sha256(data).hexdigest() if text.encoding == UTF8 else None
    del data  # a large input is held once, as text
    return Loaded(item, Document(item.id, text.text, source, text.encoding), stamp, text.detected, raw_hash)
