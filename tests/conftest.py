"""Shared fixtures and helpers for the test suite."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from hypothesis import settings

from dedup import Deduplicator, Document, Settings
from dedup.model import REMOVE, Edit, ParagraphRef
from dedup.pipeline import Result

# Property tests: a quick profile for every run, a long one for fuzzing sessions
# (HYPOTHESIS_PROFILE=fuzz pytest tests/test_properties.py).
settings.register_profile("default", max_examples=60, deadline=None)
settings.register_profile("fuzz", max_examples=3000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
SHARED = REPO.parent / "shared"


def run(texts: dict[str, str], **settings: object) -> Result:
    """Run the library on documents given as ``{id: text}``."""
    docs = [Document(doc_id, text) for doc_id, text in texts.items()]
    return Deduplicator(Settings(**settings)).run(docs)  # type: ignore[arg-type]


def removal(edit: Edit) -> tuple[ParagraphRef, float]:
    """The removed paragraph and verified score of a removal edit."""
    assert edit.op == REMOVE and edit.paragraph is not None and edit.score is not None
    return edit.paragraph, edit.score


def sentences(n: int, seed: int = 0) -> str:
    """``n`` made-up sentences on one line (for long-line tests), the same for the same seed."""
    rnd = random.Random(seed)
    words = ["harbour", "ferry", "library", "council", "reading", "pier", "river", "visitors", "room",
             "October", "Saturday", "north", "mouth", "lift", "former", "opened", "moored", "until"]
    return " ".join(" ".join(rnd.choice(words) for _ in range(rnd.randint(4, 14))).capitalize() + "."
                    for _ in range(n))


def cleaned(texts: dict[str, str], **settings: object) -> dict[str, str]:
    return {d.document.id: d.cleaned for d in run(texts, **settings).documents}


@pytest.fixture
def samples() -> Path:
    return SAMPLES
