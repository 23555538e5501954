"""Input-derived text shown on a terminal: controls, escapes and bidi controls made visible."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedup.safe import json_text, printable

UNSAFE = [chr(c) for c in [*range(0x00, 0x09), *range(0x0B, 0x20), *range(0x7F, 0xA0)]] + [
    "\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2066", "\u2067", "\u2068", "\u2069", "\u2028", "\u2029", "\ud800", "\udcff",
]


def test_escape_sequences_and_controls_become_visible() -> None:
    assert printable("a\x1b[31mred\x1b[0m") == "a\\x1b[31mred\\x1b[0m"
    assert printable("bell\x07 csi\x9b2J nul\x00 del\x7f") == "bell\\x07 csi\\x9b2J nul\\x00 del\\x7f"
    assert printable("abc\u202edef.txt") == "abc\\u202edef.txt"
    assert printable("name\udcff.txt") == "name\\udcff.txt"


def test_one_line_by_default_and_text_layout_when_asked() -> None:
    assert printable("a\nb\r\nc\rd\te") == "a\\x0ab\\x0d\\x0ac\\x0dd\te"
    assert printable("a\nb\r\nc\rd\te", multiline=True) == "a\nb\r\nc\\x0dd\te"


def test_ordinary_text_is_untouched() -> None:
    text = "Café – «déjà vu» 日本語 עברית عربي e\u0301 [bold]x[/] 🙂 \\x1b"
    assert printable(text) == text
    assert printable(text, multiline=True) == text


@given(st.text())
def test_no_unsafe_character_survives(text: str) -> None:
    multiline = printable(text, multiline=True).replace("\r\n", "\n")  # text layout keeps CRLF pairs
    for out in (printable(text), multiline):
        assert not any(ch in out for ch in UNSAFE)
        out.encode("utf-8")  # never raises: no lone surrogates left


@pytest.mark.parametrize("terminal", [False, True])
@given(text=st.text())
def test_json_text_stays_json_with_the_same_values(terminal: bool, text: str) -> None:
    line = json.dumps({"k": text, text: [text]}, ensure_ascii=False)
    safe = json_text(line, terminal=terminal)
    assert json.loads(safe) == json.loads(line)
    safe.encode("utf-8")
    if terminal:
        assert not any(ch in safe for ch in UNSAFE)
