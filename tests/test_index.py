import numpy as np
import pytest

from dedup.index import Banding, candidate_pairs, choose_banding
from dedup.signatures import MinHasher


def test_choose_banding_favours_recall() -> None:
    b = choose_banding(128, 0.4)
    assert (b.bands, b.rows) == (42, 3)
    assert b.bands * b.rows <= 128
    assert b.probability(0.4) >= 0.9
    assert b.probability(0.05) < 0.01
    with pytest.raises(ValueError):
        choose_banding(128, 1.0)


def test_candidates_include_near_copies_and_exclude_unrelated() -> None:
    text = "A floating library opened on the old harbour on Saturday, in a decommissioned ferry."
    keys = [
        text,
        "Completely different words about the weather in the mountains this week.",
        text.replace("Saturday", "Sunday"),
        text,
        "",
    ]
    sig = MinHasher().signatures(keys)
    skip = np.array([not k for k in keys])
    pairs = candidate_pairs(sig, choose_banding(128, 0.4), skip=skip).tolist()
    assert [0, 2] in pairs and [0, 3] in pairs and [2, 3] in pairs
    assert not any(1 in p for p in pairs)
    assert not any(4 in p for p in pairs)
    assert all(i < j for i, j in pairs)


def test_large_buckets_cost_linear_pairs() -> None:
    sig = np.zeros((500, 16), dtype=np.uint32)  # 500 identical signatures
    pairs = candidate_pairs(sig, Banding(4, 4))
    assert len(pairs) == 2 * 499 - 1  # star to the first plus chain, deduplicated
    assert {tuple(p) for p in pairs.tolist()} >= {(0, j) for j in range(1, 500)}


def test_no_candidates_for_tiny_inputs() -> None:
    assert candidate_pairs(np.zeros((1, 8), dtype=np.uint32), Banding(2, 4)).shape == (0, 2)
