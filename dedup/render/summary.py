"""What a reviewer reads first, computed once from the edit records for every report format.

Counts by rule and reason, the distribution of the share of each document that was removed, the
documents that lost the most (usually scraper failures), and the clusters the run acted on: each
cluster here is the removed copies plus the kept copies they were verified against (copies kept
for other reasons are not in the records; ``dedup scan`` lists whole clusters).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from dedup.model import REMOVE, Problem
from dedup.records import DocumentRecord, Records

# Share of a document's characters removed: (label, lower bound) of each bucket; unchanged
# documents have a bucket of their own.
BUCKETS: tuple[tuple[str, float], ...] = (
    ("under 10%", 0.0), ("10-25%", 0.10), ("25-50%", 0.25), ("50-75%", 0.50), ("75% or more", 0.75),
)
UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class RuleCount:
    """Edits of one operation and rule: how many, in how many documents, and the characters
    they took out (``old`` minus ``new``)."""

    op: str
    rule: str
    edits: int
    documents: int
    chars: int


@dataclass(frozen=True, slots=True)
class ClusterSummary:
    """One cluster as the records show it: its paragraphs (removed and kept copies), the
    documents they are in, how many were removed, the first kept copy and its text."""

    id: int
    paragraphs: int
    documents: int
    removed: int
    kept_doc: str
    kept_index: int
    text: str


@dataclass(frozen=True, slots=True)
class Summary:
    documents: int
    changed: int
    paragraphs: int
    chars_in: int
    chars_out: int
    removals: int
    fixes: int
    by_rule: tuple[RuleCount, ...]
    by_reason: tuple[tuple[str, int], ...]
    distribution: tuple[tuple[str, int], ...]
    most_lost: tuple[DocumentRecord, ...]
    largest_clusters: tuple[ClusterSummary, ...]
    cross_clusters: tuple[ClusterSummary, ...]
    clusters: int
    cross_documents: int
    problems: tuple[Problem, ...]
    tools: tuple[str, ...]
    settings: tuple[str, ...]

    @property
    def chars_removed(self) -> int:
        return self.chars_in - self.chars_out

    @property
    def share_removed(self) -> float:
        return self.chars_removed / self.chars_in if self.chars_in else 0.0

    def overview(self) -> list[list[str]]:
        """The opening table of the Markdown and HTML reports: (label, value) rows."""
        return [
            ["documents", f"{self.documents:,} ({self.changed:,} changed)"],
            ["paragraphs", f"{self.paragraphs:,}"],
            ["removed", f"{self.removals:,} paragraphs, {self.chars_removed:,} of {self.chars_in:,} characters "
                        f"({percent(self.share_removed)})"],
            ["text fixes", f"{self.fixes:,}"],
            ["clusters", f"{self.clusters:,} ({self.cross_documents:,} across documents)"],
            ["inputs not processed", f"{len(self.problems):,}"],
        ]


def bucket(doc: DocumentRecord) -> str:
    """The distribution bucket of a document."""
    if not doc.changed:
        return UNCHANGED
    share = doc.share_removed
    name = BUCKETS[0][0]
    for label, low in BUCKETS:
        if share >= low:
            name = label
    return name


def _clusters(docs: list[DocumentRecord]) -> list[ClusterSummary]:
    members: dict[int, set[tuple[str, int]]] = defaultdict(set)
    removed: Counter[int] = Counter()
    first_kept: dict[int, tuple[str, int, str]] = {}
    for doc in docs:
        for rec in doc.edits:
            e = rec.edit
            if e.op != REMOVE or e.cluster is None:
                continue
            removed[e.cluster] += 1
            if e.paragraph is not None:
                members[e.cluster].add((doc.id, e.paragraph.index))
            for k, text in zip(e.kept, rec.kept_text, strict=True):
                members[e.cluster].add((k.doc, k.index))
                first_kept.setdefault(e.cluster, (k.doc, k.index, text if text is not None else rec.paragraph_text))
    out = []
    for cid, paras in members.items():
        kept_doc, kept_index, text = first_kept.get(cid, ("", 0, ""))
        out.append(ClusterSummary(cid, len(paras), len({d for d, _ in paras}), removed[cid], kept_doc, kept_index,
                                  text))
    return out


def summarize(records: Records, top: int = 10) -> Summary:
    """The summary of ``records``; ``top`` bounds each list (documents, clusters)."""
    docs = records.documents
    by_rule: Counter[tuple[str, str]] = Counter()
    rule_docs: dict[tuple[str, str], set[str]] = defaultdict(set)
    rule_chars: Counter[tuple[str, str]] = Counter()
    by_reason: Counter[str] = Counter()
    removals = fixes = 0
    for doc in docs:
        for rec in doc.edits:
            e = rec.edit
            key = (e.op, e.rule)
            by_rule[key] += 1
            rule_docs[key].add(doc.id)
            rule_chars[key] += len(e.old) - len(e.new)
            if e.op == REMOVE:
                removals += 1
                by_reason[e.reason] += 1
            else:
                fixes += 1
    buckets = Counter(bucket(d) for d in docs)
    changed = [d for d in docs if d.changed]
    lost = [d for d in changed if d.chars_removed > 0]
    most_lost = sorted(lost, key=lambda d: (-d.share_removed, -d.chars_removed, d.id))[:top]
    clusters = _clusters(docs)
    cross = [c for c in clusters if c.documents > 1]
    return Summary(
        documents=len(docs),
        changed=len(changed),
        paragraphs=sum(d.paragraphs for d in docs),
        chars_in=sum(d.input.chars for d in docs),
        chars_out=sum(d.output.chars for d in docs),
        removals=removals,
        fixes=fixes,
        by_rule=tuple(RuleCount(op, rule, n, len(rule_docs[(op, rule)]), rule_chars[(op, rule)])
                      for (op, rule), n in sorted(by_rule.items(), key=lambda kv: (kv[0][0] != REMOVE, -kv[1], kv[0]))),
        by_reason=tuple(sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))),
        distribution=tuple((name, buckets[name]) for name in (UNCHANGED, *(b for b, _ in BUCKETS))),
        most_lost=tuple(most_lost),
        largest_clusters=tuple(sorted(clusters, key=lambda c: (-c.paragraphs, -c.documents, c.id))[:top]),
        cross_clusters=tuple(sorted(cross, key=lambda c: (-c.documents, -c.paragraphs, c.id))[:top]),
        clusters=len(clusters),
        cross_documents=len(cross),
        problems=tuple(records.problems),
        tools=tuple(sorted({d.tool for d in docs})),
        settings=tuple(sorted({d.settings for d in docs})),
    )


def percent(share: float) -> str:
    """A share as a percentage with one decimal (``12.5%``)."""
    return f"{100 * share:.1f}%"
