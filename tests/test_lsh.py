from itertools import pairwise

import numpy as np
import pytest

from dedup.compiled import band_add
from dedup.lsh import FIRST_MEMBERS, Banding, BandTable, band_values, choose_banding, numpy_band_values
from dedup.signatures import MinHasher


def test_choose_banding_favours_recall() -> None:
    b = choose_banding(128, 0.4)
    assert (b.bands, b.rows) == (42, 3)
    assert b.bands * b.rows <= 128
    assert b.probability(0.4) >= 0.9
    assert b.probability(0.05) < 0.01
    with pytest.raises(ValueError):
        choose_banding(128, 1.0)


@pytest.mark.parametrize("banding", [Banding(42, 3), Banding(32, 4), Banding(128, 1), Banding(1, 128), Banding(5, 7)])
def test_compiled_band_values_are_the_numpy_values(banding: Banding) -> None:
    rng = np.random.default_rng(banding.rows)
    sig = rng.integers(0, 2**32, size=(500, 128), dtype=np.uint32)
    sig[:3] = np.array([[0], [0xFFFFFFFF], [0x80000000]], dtype=np.uint32)  # the extremes of every band
    want = numpy_band_values(sig, banding)
    assert want.dtype == np.uint32 and want.shape == (500, banding.bands)
    assert np.array_equal(band_values(sig, banding), want)
    assert np.array_equal(band_values(sig[::2], banding), want[::2])  # a strided view: copied first
    assert np.array_equal(band_values(sig.astype(np.int64), banding), want)  # other types: numpy
    assert band_values(sig[:0], banding).shape == (0, banding.bands)


def test_the_compiled_band_values_refuse_what_does_not_fit() -> None:
    from dedup import _kernels

    sig, mix = np.zeros((2, 8), dtype=np.uint32), np.ones(4, dtype=np.uint64)
    with pytest.raises(ValueError, match="sizes"):
        _kernels.band_values(sig, 3, mix, np.empty((2, 3), dtype=np.uint32))  # 3 bands of 3 > 8 values
    with pytest.raises(ValueError, match="sizes"):
        _kernels.band_values(sig, 2, mix, np.empty((3, 2), dtype=np.uint32))
    with pytest.raises(ValueError, match="constants"):
        _kernels.band_values(sig, 2, mix[:3], np.empty((2, 2), dtype=np.uint32))
    with pytest.raises(TypeError, match="signatures"):
        _kernels.band_values(sig.astype(np.uint64), 2, mix, np.empty((2, 2), dtype=np.uint32))


def pairs_of(keys: list[str]) -> list[list[int]]:
    banding = choose_banding(128, 0.4)
    sig = MinHasher().signatures(keys)
    table = BandTable(banding)
    return table.add(np.arange(len(keys)), band_values(sig, banding)).tolist()  # type: ignore[no-any-return]


def test_candidates_include_near_copies_and_exclude_unrelated() -> None:
    text = "A floating library opened on the old harbour on Saturday, in a decommissioned ferry."
    pairs = pairs_of([
        text,
        "Completely different words about the weather in the mountains this week.",
        text.replace("Saturday", "Sunday"),
        text + " And a tail.",
    ])
    assert [0, 2] in pairs and [0, 3] in pairs and [2, 3] in pairs
    assert not any(1 in p for p in pairs)
    assert all(i < j for i, j in pairs)


def test_pairs_do_not_depend_on_how_the_keys_are_batched() -> None:
    rng = np.random.default_rng(7)
    base = [" ".join(rng.choice(["alpha", "beta", "gamma", "delta", "epsilon", "zeta"], 12)) for _ in range(60)]
    keys = base + [k[:-3] for k in base] + base[:20]
    banding = choose_banding(128, 0.4)
    values = band_values(MinHasher().signatures(keys), banding)
    whole = BandTable(banding).add(np.arange(len(keys)), values)
    table = BandTable(banding)
    parts = [table.add(np.arange(a, b), values[a:b]) for a, b in ((0, 17), (17, 90), (90, len(keys)))]
    assert np.array_equal(np.unique(np.concatenate(parts), axis=0), whole)
    assert len(table) == len(keys)


def test_large_buckets_cost_linear_pairs() -> None:
    values = np.zeros((500, 4), dtype=np.uint32)  # 500 keys in one bucket of every band
    pairs = BandTable(Banding(4, 4)).add(np.arange(500), values)
    # each key: the first FIRST_MEMBERS keys before it, and the one just before it
    expected = sum(min(j, FIRST_MEMBERS) + (1 if j > FIRST_MEMBERS else 0) for j in range(500))
    assert len(pairs) == expected
    assert {tuple(p) for p in pairs.tolist()} >= {(0, j) for j in range(1, 500)}


def test_no_candidates_for_no_keys() -> None:
    assert BandTable(Banding(2, 4)).add(np.zeros(0, dtype=np.int64), np.zeros((0, 2), dtype=np.uint32)).shape == (0, 2)


def reference_pairs(buckets: list[dict[int, list[int]]], ids: range, values: np.ndarray) -> list[list[int]]:
    """The pairing rule spelled out with one Python list per bucket."""
    found: set[tuple[int, int]] = set()
    for row, key in enumerate(ids):
        for band, bucket_of in enumerate(buckets):
            before = bucket_of.setdefault(int(values[row, band]), [])
            found.update((earlier, key) for earlier in before[:FIRST_MEMBERS])
            if len(before) > FIRST_MEMBERS:
                found.add((before[-1], key))
            before.append(key)
    return sorted(map(list, found))


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_table_pairs_match_the_rule_batch_after_batch(seed: int, compiled: bool) -> None:
    rng = np.random.default_rng(seed)
    bands, n = 5, 3000
    values = rng.integers(0, 40, size=(n, bands)).astype(np.uint32)  # crowded buckets of every size
    values[rng.random(n) < 0.3] += np.uint32(1000)  # and some sparse ones
    values[rng.random(n) < 0.05] = np.uint32(0xFFFFFFFF)  # the largest value: merged last
    cuts = [0, *sorted(rng.choice(np.arange(1, n), size=12, replace=False).tolist()), n]
    table = BandTable(Banding(bands, 1))
    reference = BandTable(Banding(bands, 1))  # numpy all along
    if compiled:
        table.compiled = band_add()
        assert table.compiled is not None
    buckets: list[dict[int, list[int]]] = [{} for _ in range(bands)]
    for a, b in pairwise(cuts):
        got = table.add(np.arange(a, b), values[a:b]).tolist()
        assert got == reference_pairs(buckets, range(a, b), values[a:b])
        reference.add(np.arange(a, b), values[a:b])
        for band in range(bands):  # the table itself, whichever merged it
            assert np.array_equal(table.band(band)[0], reference.band(band)[0])
            assert np.array_equal(table.band(band)[1], reference.band(band)[1])
    assert len(table) == n


def test_compiled_table_pairs_keys_with_the_largest_ids() -> None:
    """Pairs come back from the compiled insert as ``earlier << shift | new`` codes split again:
    ids near 2**31 use every bit of them."""
    compiled = band_add()
    if compiled is None:
        pytest.skip("no compiled extension")
    rng = np.random.default_rng(4)
    values = rng.integers(0, 6, size=(300, 3)).astype(np.uint32)
    ids = np.arange(2**31 - 301, 2**31 - 1)
    table, reference = BandTable(Banding(3, 1)), BandTable(Banding(3, 1))
    table.compiled = compiled
    for a, b in ((0, 120), (120, 300)):
        got = table.add(ids[a:b], values[a:b])
        assert np.array_equal(got, reference.add(ids[a:b], values[a:b]))
        assert got.flags.writeable and got.shape[1] == 2 and len(got) > 0
    with pytest.raises(ValueError, match="width"):
        compiled(table._values, table._ids, len(table), values[:1], np.array([5], dtype=np.int32), 16, 2**31 + 1)
