from dedup.cluster import UnionFind, components


def test_union_find_merges_sets() -> None:
    uf = UnionFind(6)
    uf.union(0, 1)
    uf.union(2, 3)
    uf.union(1, 3)
    assert uf.find(0) == uf.find(2) == uf.find(3)
    assert uf.find(4) != uf.find(0)


def test_components_are_sorted_by_rank_and_canonical_first() -> None:
    rank = [5, 4, 3, 2, 1, 0]  # reverse order: the last paragraph ranks first
    groups = components(6, [(0, 1), (1, 2), (3, 4)], rank)
    assert groups == [[4, 3], [2, 1, 0]]
    assert components(3, [], [0, 1, 2]) == []
