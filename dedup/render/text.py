"""Scraped text made safe to show: invisible characters as visible labels, escape sequences gone.

Scraped text is hostile. Characters that take no room or reorder text (no-break and other special
spaces, zero-width characters, soft hyphens, bidi controls, control characters, byte order marks)
could hide a difference between two copies or reorder what a reviewer reads, so every report shows
each of them as a label (``⟨NBSP⟩``, ``⟨RLO⟩``, ``⟨U+2063⟩``) and never the character itself.
Tabs, line feeds and CR LF line ends are shown as they are. The same table drives the HTML
report's script (``js_pattern``), so the browser labels exactly what Python labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rapidfuzz.distance import Levenshtein

# A character-level difference: (tag, start, end in the first text, start, end in the second),
# tag "replace", "delete" or "insert".
Opcode = tuple[str, int, int, int, int]

# Code point ranges shown as labels (inclusive). Variation selectors are left alone: emoji use them.
INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F),  # C0 controls but tab, line feed, carriage return
    (0x7F, 0x9F),  # DEL and C1 controls
    (0xA0, 0xA0), (0xAD, 0xAD), (0x34F, 0x34F), (0x61C, 0x61C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180E), (0x2000, 0x200F), (0x2028, 0x202F), (0x205F, 0x206F), (0x3000, 0x3000),
    (0x3164, 0x3164), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF9, 0xFFFB), (0x1D173, 0x1D17A),
    (0xE0000, 0xE007F),
)

_C0 = ("NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL", "BS", "HT", "LF", "VT", "FF", "CR", "SO",
       "SI", "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB", "CAN", "EM", "SUB", "ESC", "FS", "GS",
       "RS", "US")
NAMES: dict[int, str] = {
    **dict(enumerate(_C0)), 0x7F: "DEL", 0xA0: "NBSP", 0xAD: "SHY", 0x34F: "CGJ", 0x61C: "ALM",
    0x180E: "MVS", 0x2002: "ENSP", 0x2003: "EMSP", 0x2009: "THINSP", 0x200A: "HAIRSP",
    0x200B: "ZWSP", 0x200C: "ZWNJ", 0x200D: "ZWJ", 0x200E: "LRM", 0x200F: "RLM", 0x2028: "LSEP",
    0x2029: "PSEP", 0x202A: "LRE", 0x202B: "RLE", 0x202C: "PDF", 0x202D: "LRO", 0x202E: "RLO",
    0x202F: "NNBSP", 0x205F: "MMSP", 0x2060: "WJ", 0x2066: "LRI", 0x2067: "RLI", 0x2068: "FSI",
    0x2069: "PDI", 0x3000: "IDSP", 0xFEFF: "BOM",
}

_CLASS = "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in INVISIBLE_RANGES)
INVISIBLE = re.compile(f"[{_CLASS}]|\\r(?!\\n)")

# Terminal escape sequences: CSI (ESC [ or the C1 byte), OSC/DCS/APC/PM/SOS strings up to their
# terminator (or the end of the line), and two-character ESC sequences.
ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)


def label(char: str) -> str:
    """The visible label of an invisible character, e.g. ``NBSP`` or ``U+2063``."""
    cp = ord(char)
    return NAMES.get(cp, f"U+{cp:04X}")


def visible_runs(text: str) -> Iterator[tuple[str, bool]]:
    """``text`` as runs of ``(text, False)`` and ``(label, True)``, one label per invisible character."""
    pos = 0
    for m in INVISIBLE.finditer(text):
        if m.start() > pos:
            yield text[pos : m.start()], False
        yield label(m.group()), True
        pos = m.end()
    if pos < len(text):
        yield text[pos:], False


def visible(text: str) -> str:
    """``text`` with every invisible character as ``⟨LABEL⟩``."""
    return "".join(f"⟨{t}⟩" if is_label else t for t, is_label in visible_runs(text))


def strip_escapes(text: str) -> str:
    """``text`` without terminal escape sequences (their remaining control characters are then
    labelled by ``visible_runs``)."""
    return ESCAPE_SEQUENCE.sub("", text)


def excerpt(text: str, limit: int = 80) -> str:
    """One line of at most ``limit`` characters: line ends as ``⏎``, invisible characters as
    labels, whitespace runs collapsed."""
    flat = re.sub(r"[ \t]+", " ", visible(text.strip()).replace("\r\n", "⏎ ").replace("\n", "⏎ "))
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def js_pattern() -> str:
    """``INVISIBLE`` as the source of a JavaScript ``RegExp`` with the ``u`` flag."""
    ranges = "".join(f"\\u{{{lo:x}}}-\\u{{{hi:x}}}" for lo, hi in INVISIBLE_RANGES)
    return f"[{ranges}]|\\r(?!\\n)"


def char_diff(a: str, b: str) -> list[Opcode]:
    """The character-level differences between ``a`` and ``b`` (rapidfuzz Levenshtein opcodes,
    equal runs left out)."""
    if a == b:
        return []
    return [(op.tag, op.src_start, op.src_end, op.dest_start, op.dest_end)
            for op in Levenshtein.opcodes(a, b) if op.tag != "equal"]


def marked(text: str, ops: list[Opcode], second: bool) -> Iterator[tuple[str, bool]]:
    """``text`` (the first or ``second`` text of ``char_diff``) as runs of ``(text, differs)``."""
    pos = 0
    for op in ops:
        start, end = (op[3], op[4]) if second else (op[1], op[2])
        if start > pos:
            yield text[pos:start], False
        if end > start:
            yield text[start:end], True
        pos = max(pos, end)
    if pos < len(text):
        yield text[pos:], False
