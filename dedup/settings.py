"""Settings: every knob of a run in one frozen object, with a fingerprint for reports."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass

from dedup.fixes import FIX_RULES
from dedup.signatures import HASH_VERSION, SCHEME

KEEP_FIRST = "first"
KEEP_LONGEST = "longest"
KEEP_RULES = (KEEP_FIRST, KEEP_LONGEST)
SCOPE_CORPUS = "corpus"
SCOPE_DOCUMENT = "document"
SCOPES = (SCOPE_CORPUS, SCOPE_DOCUMENT)
KEY_VERSION = "nfkc-casefold-quotes-dashes-ws-v1"
BOILERPLATE_OFF = "off"
BOILERPLATE_REMOVE = "remove"
BOILERPLATE_REPORT = "report"
BOILERPLATE_MODES = (BOILERPLATE_OFF, BOILERPLATE_REMOVE, BOILERPLATE_REPORT)


@dataclass(frozen=True, slots=True)
class Settings:
    """What counts as a duplicate and which copy stays.

    threshold   minimum verified similarity (rapidfuzz normalised Indel, 0..1) for a removal.
    num_perm    MinHash permutations; more makes candidate search more exact and slower.
    ngram       shingle length in characters.
    lsh_recall_at  Jaccard similarity at which LSH finds a pair with 90% probability; the banding
                is derived from it. Low, because truncated and merged copies share only part of
                their shingles; verification removes the false candidates.
    min_chars   a paragraph shorter than this (in key characters), or a list item, is never
                removed on its own, only inside a repeated run of paragraphs.
    run_window  how far apart (in paragraphs) the kept copies of two neighbouring duplicates may
                be for the two to count as one repeated run.
    keep        which copy of a cluster stays: "first" (input order) or "longest".
    scope       "corpus" (within and across documents) or "document" (within each only).
    seed        MinHash permutation seed, as in datasketch.
    fixes       the text-fix rules to apply (``dedup.fixes.FIX_RULES``; all by default).
    boilerplate "off", "remove" (every copy of a boilerplate line goes, the first included) or
                "report" (listed in the report only).
    boilerplate_min_docs  a line of at most ``boilerplate_max_chars`` characters is
                boilerplate when it occurs in at least this many documents.
    """

    threshold: float = 0.85
    num_perm: int = 128
    ngram: int = 5
    lsh_recall_at: float = 0.4
    min_chars: int = 50
    run_window: int = 4
    keep: str = KEEP_FIRST
    scope: str = SCOPE_CORPUS
    seed: int = 1
    fixes: tuple[str, ...] = FIX_RULES
    boilerplate: str = BOILERPLATE_OFF
    boilerplate_min_docs: int = 3
    boilerplate_max_chars: int = 200

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
        if not 2 <= self.num_perm <= 1024:
            raise ValueError(f"num_perm must be between 2 and 1024, got {self.num_perm}")
        if not 1 <= self.ngram <= 12:
            raise ValueError(f"ngram must be between 1 and 12, got {self.ngram}")
        if not 0.0 < self.lsh_recall_at < 1.0:
            raise ValueError(f"lsh_recall_at must be in (0, 1), got {self.lsh_recall_at}")
        if self.min_chars < 0:
            raise ValueError(f"min_chars must be >= 0, got {self.min_chars}")
        if self.run_window < 1:
            raise ValueError(f"run_window must be >= 1, got {self.run_window}")
        if self.keep not in KEEP_RULES:
            raise ValueError(f"keep must be one of {', '.join(KEEP_RULES)}, got {self.keep!r}")
        if self.scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}, got {self.scope!r}")
        unknown = set(self.fixes) - set(FIX_RULES)
        if unknown:
            raise ValueError(f"unknown fix rule(s) {', '.join(sorted(unknown))}; known: {', '.join(FIX_RULES)}")
        if self.boilerplate not in BOILERPLATE_MODES:
            raise ValueError(f"boilerplate must be one of {', '.join(BOILERPLATE_MODES)}, got {self.boilerplate!r}")
        if self.boilerplate_min_docs < 2:
            raise ValueError(f"boilerplate_min_docs must be >= 2, got {self.boilerplate_min_docs}")
        if self.boilerplate_max_chars < 1:
            raise ValueError(f"boilerplate_max_chars must be >= 1, got {self.boilerplate_max_chars}")

    def as_dict(self) -> dict[str, object]:
        d: dict[str, object] = asdict(self)
        d["fixes"] = sorted(self.fixes)
        d["minhash_scheme"] = SCHEME
        d["shingle_hash"] = HASH_VERSION
        d["key"] = KEY_VERSION
        return d

    def fingerprint(self) -> str:
        """A short hash of everything that changes results; equal settings, equal fingerprint."""
        blob = json.dumps(self.as_dict(), sort_keys=True).encode()
        return "sha256:" + hashlib.sha256(blob).hexdigest()[:16]
