"""Text from scraped input made safe to show: nothing in it may act as a terminal control.

Scraped text and the names of scraped files can hold anything: escape sequences that recolour or
rewrite the terminal (``ESC [ 2 J``), C1 controls (``\\x9b`` is a one-byte CSI on some terminals),
a carriage return that overwrites the line it is on, bidi controls that make text read in another
order than it runs (``\\u202e``), and lone surrogates (undecodable bytes in file names) that would
make the output stream raise. Every message that carries input-derived text goes through
``printable`` before it reaches standard error, and through rich ``Text`` (never markup).

``printable`` replaces each such character by a visible escape: ``\\xNN`` below U+0100,
``\\uNNNN`` above; everything else, non-ASCII letters included, is left as it is.
``json_text`` does the same for a JSON line, with JSON's own ``\\uNNNN`` escapes so the line
stays valid JSON that decodes to the same values.
"""

from __future__ import annotations

import re

# Characters that are never shown as they are: C0 controls (but tab, newline and carriage return,
# which the two patterns below handle), DEL, C1 controls, the Arabic letter mark and the other bidi controls,
# line and paragraph separators, and lone surrogates.
_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_ALWAYS = "\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f" + _BIDI + "\u2028\u2029\ud800-\udfff"
_MULTILINE = re.compile(f"[{_ALWAYS}]|\r(?!\n)")  # keeps tab, newline and CRLF
_ONE_LINE = re.compile(f"[{_ALWAYS}\n\r]")  # keeps tab
# In a JSON text made by json.dumps, C0 controls are already escaped and every other character
# matched here can only occur inside a string, where \\uNNNN is a valid escape.
_JSON_FILE = re.compile("[\ud800-\udfff]")
_JSON_TERMINAL = re.compile(f"[\x7f-\x9f{_BIDI}\u2028\u2029\ud800-\udfff]")


def _escape(m: re.Match[str]) -> str:
    cp = ord(m.group())
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}"


def _json_escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def printable(text: str, *, multiline: bool = False) -> str:
    """``text`` with every control, escape, bidi control and lone surrogate made visible.

    Tabs are kept. One line by default (for file names and messages: a newline in a file name
    cannot fake a second message); ``multiline=True`` keeps newlines and CRLF pairs too (for text
    shown as text), but a lone carriage return, which would overwrite its line, is still escaped.
    """
    pattern = _MULTILINE if multiline else _ONE_LINE
    return pattern.sub(_escape, text)


def json_text(line: str, *, terminal: bool = False) -> str:
    """A JSON text from ``json.dumps(..., ensure_ascii=False)`` made safe to write.

    Lone surrogates (which UTF-8 cannot encode) always become ``\\uNNNN`` escapes; for a
    terminal, so do DEL, C1 controls, bidi controls and line separators. The result decodes to
    exactly the same values.
    """
    pattern = _JSON_TERMINAL if terminal else _JSON_FILE
    return pattern.sub(_json_escape, line)
