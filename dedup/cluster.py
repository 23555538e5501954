"""Clusters: paragraphs linked by verified matches, found with union-find."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class UnionFind:
    """Disjoint sets over ``0..n-1`` with path halving and union by size."""

    def __init__(self, n: int) -> None:
        self._parent = list(range(n))
        self._size = [1] * n

    def find(self, x: int) -> int:
        parent = self._parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self._size[ra] < self._size[rb]:
            ra, rb = rb, ra
        self._parent[rb] = ra
        self._size[ra] += self._size[rb]


def components(n: int, edges: Iterable[tuple[int, int]], rank: Sequence[int]) -> list[list[int]]:
    """Connected components with two or more members, each sorted by ``rank`` (the canonical
    copy first), and the components sorted by their canonical copy's rank."""
    uf = UnionFind(n)
    touched: set[int] = set()
    for a, b in edges:
        uf.union(a, b)
        touched.add(a)
        touched.add(b)
    groups: dict[int, list[int]] = {}
    for x in touched:
        groups.setdefault(uf.find(x), []).append(x)
    out = [sorted(g, key=rank.__getitem__) for g in groups.values() if len(g) > 1]
    out.sort(key=lambda g: rank[g[0]])
    return out
