"""dedup: find repeated and near-repeated paragraphs in scraped text and write clean text.

Library first::

    >>> from dedup import Document, Deduplicator
    >>> text = "Title\\n" + "A paragraph long enough to stand on its own, said twice.\\n" * 2
    >>> result = Deduplicator().run([Document("a.txt", text)])
    >>> print(result.documents[0].cleaned, end="")
    Title
    A paragraph long enough to stand on its own, said twice.
"""

__version__ = "0.1.0"

from dedup.model import Cluster, Document, DocumentResult, Edit, Member, ParagraphRef, Problem
from dedup.pipeline import Deduplicator, Result, clean_texts, collector_tuned
from dedup.settings import Settings

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
