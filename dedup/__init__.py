"""dedup: find repeated and near-repeated paragraphs in scraped text and write clean text.

Library first::

    >>> from dedup import Document, Deduplicator
    >>> text = "Title\\n" + "A paragraph long enough to stand on its own, said twice.\\n" * 2
    >>> result = Deduplicator().run([Document("a.txt", text)])
    >>> print(result.documents[0].cleaned, end="")
    Title
    A paragraph long enough to stand on its own, said twice.

The names below are imported when first used (PEP 562), so that importing the package alone
loads neither numpy nor the engine: the ``dedup`` command sets up its environment before they
load (see ``dedup.__main__``).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from dedup.model import Cluster, Document, DocumentResult, Edit, Member, ParagraphRef, Problem
    from dedup.pipeline import Deduplicator, Result, clean_texts, collector_tuned
    from dedup.settings import Settings

_EXPORTS = {
    "Cluster": "dedup.model",
    "Document": "dedup.model",
    "DocumentResult": "dedup.model",
    "Edit": "dedup.model",
    "Member": "dedup.model",
    "ParagraphRef": "dedup.model",
    "Problem": "dedup.model",
    "Deduplicator": "dedup.pipeline",
    "Result": "dedup.pipeline",
    "clean_texts": "dedup.pipeline",
    "collector_tuned": "dedup.pipeline",
    "Settings": "dedup.settings",
}

__all__ = [
    "Cluster",
    "Deduplicator",
    "Document",
    "DocumentResult",
    "Edit",
    "Member",
    "ParagraphRef",
    "Problem",
    "Result",
    "Settings",
    "__version__",
    "clean_texts",
    "collector_tuned",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:  # a submodule (``from dedup import pipeline``) is then imported as usual
        raise AttributeError(f"module 'dedup' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # looked up once
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
