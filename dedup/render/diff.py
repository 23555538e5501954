"""Edit records as a unified diff with git-style headers (``dedup report --format diff``).

One ``diff --git a/ID b/ID`` section per changed document, made from the records alone: each edit
carries the whole input lines it touches (``lines``: ``before + old + after``), so every hunk
shows exactly those lines, without further context lines (like ``git diff -U0``). Line numbers
count ``\\n``-terminated lines, as git and patch do. The diff applies to the original files with
``git apply --unidiff-zero`` or ``patch``, and reads well in ``less`` and ``delta``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from dedup.records import DocumentRecord, RecordedEdit

NO_NEWLINE = "\\ No newline at end of file\n"


class DiffError(ValueError):
    """A record that cannot be shown as a diff (written without line context)."""


def _split(text: str) -> list[str]:
    """Lines of ``text``, each with its ``\\n`` (the last one may lack it)."""
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _quote(path: str) -> str:
    """A path as git writes it in headers: C-style quoted when it holds a quote, a backslash or a
    control character (a line break in a name cannot break the diff)."""
    if not any(c in '"\\' or ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        return path
    escapes = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
    return '"' + "".join(escapes.get(c, f"\\{ord(c):03o}" if ord(c) < 0x20 or ord(c) == 0x7F else c)
                         for c in path) + '"'


def _range(start: int, count: int) -> str:
    if count == 0:
        return f"{start - 1},0"
    return str(start) if count == 1 else f"{start},{count}"


def _groups(edits: Sequence[RecordedEdit]) -> Iterator[list[RecordedEdit]]:
    """Edits whose touched lines overlap or meet, together."""
    group: list[RecordedEdit] = []
    group_end = -1
    for rec in edits:
        assert rec.lines is not None
        start = rec.edit.start - len(rec.lines.before)
        if group and start > group_end:
            yield group
            group = []
        group.append(rec)
        group_end = max(group_end, rec.edit.end + len(rec.lines.after))
    if group:
        yield group


def _region(group: list[RecordedEdit]) -> tuple[int, str, str]:
    """The first line number and the input and output text of the lines a group touches."""
    pieces: list[tuple[int, str]] = []
    for rec in group:
        assert rec.lines is not None
        e = rec.edit
        pieces += [(e.start - len(rec.lines.before), rec.lines.before), (e.start, e.old), (e.end, rec.lines.after)]
    base = pieces[0][0]
    text: list[str] = []
    cursor = base
    for pos, piece in sorted(pieces, key=lambda p: p[0]):
        if pos > cursor:
            raise DiffError(f"the lines around input offset {cursor} are not recorded")
        if pos + len(piece) > cursor:
            text.append(piece[cursor - pos :])
            cursor = pos + len(piece)
    old = "".join(text)
    new: list[str] = []
    pos = base
    for rec in group:
        new += [old[pos - base : rec.edit.start - base], rec.edit.new]
        pos = rec.edit.end
    new.append(old[pos - base :])
    assert group[0].lines is not None
    return group[0].lines.first, old, "".join(new)


def _hunk_lines(prefix: str, lines: list[str]) -> Iterator[str]:
    for line in lines:
        yield prefix + line
        if not line.endswith("\n"):
            yield "\n" + NO_NEWLINE


def document_diff(doc: DocumentRecord) -> str:
    """The diff of one document ("" when nothing changed); ``DiffError`` for a record without
    line context (written by an older dedup)."""
    if not doc.edits:
        return ""
    if any(rec.lines is None for rec in doc.edits):
        raise DiffError(f"{doc.id}: the record has no line context (written by an older dedup); "
                        "clean again to get a diff")
    path = doc.id.lstrip("/")  # git paths are relative: a//abs/path would not apply with -p1
    a, b = _quote("a/" + path), _quote("b/" + path)
    out = [f"diff --git {a} {b}\n", f"--- {a}\n", f"+++ {b}\n"]
    shift = 0  # output lines minus input lines before the current hunk
    for group in _groups(doc.edits):
        first, old, new = _region(group)
        old_lines, new_lines = _split(old), _split(new)
        lead = 0
        while lead < min(len(old_lines), len(new_lines)) and old_lines[lead] == new_lines[lead]:
            lead += 1
        trail = 0
        while (trail < min(len(old_lines), len(new_lines)) - lead
               and old_lines[-1 - trail] == new_lines[-1 - trail]):
            trail += 1
        removed = old_lines[lead : len(old_lines) - trail]
        added = new_lines[lead : len(new_lines) - trail]
        if removed or added:
            out.append(f"@@ -{_range(first + lead, len(removed))} +{_range(first + lead + shift, len(added))} @@\n")
            out += _hunk_lines("-", removed)
            out += _hunk_lines("+", added)
        shift += len(new_lines) - len(old_lines)
    return "".join(out)


def render_diff(docs: Sequence[DocumentRecord]) -> tuple[str, list[DiffError]]:
    """The diff of every changed document, and the documents that could not be shown."""
    parts: list[str] = []
    errors: list[DiffError] = []
    for doc in docs:
        try:
            parts.append(document_diff(doc))
        except DiffError as exc:
            errors.append(exc)
    return "".join(parts), errors
