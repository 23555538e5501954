import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash
from hypothesis import given, settings
from hypothesis import strategies as st

from dedup import signatures
from dedup.signatures import EMPTY_VALUE, MinHasher, cache_dir, jaccard_estimate, load_kernel, permutations


def datasketch_signature(hashes: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=int, scheme="affine32")
    m.update_batch([int(h) for h in hashes])
    return np.asarray(m.hashvalues)


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize(("num_perm", "seed"), [(128, 1), (64, 7), (256, 42)])
def test_signatures_equal_datasketch_minhash(num_perm: int, seed: int, compiled: bool) -> None:
    keys = ["the same paragraph, scraped twice", "x", "", "ab", "a longer one " * 50, "été « ça » 10 000",
            "emoji \U0001f600 and \ud800 a lone surrogate"]
    hasher = MinHasher(num_perm=num_perm, seed=seed, ngram=5, compiled=compiled)
    sig = hasher.signatures(keys)
    hashes, offsets = hasher.shingle_hashes(keys)
    assert sig.dtype == np.uint32 and sig.shape == (len(keys), num_perm)
    for i in range(len(keys)):
        own = hashes[offsets[i] : offsets[i + 1]]
        if len(own) == 0:
            assert (sig[i] == EMPTY_VALUE).all()
            assert np.array_equal(sig[i], MinHash(num_perm=num_perm, seed=seed).hashvalues)
        else:
            assert np.array_equal(sig[i], datasketch_signature(own, num_perm, seed))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=40), min_size=1, max_size=12))
def test_signatures_equal_datasketch_on_random_keys(keys: list[str]) -> None:
    hasher = MinHasher(num_perm=32, seed=3, ngram=4)
    sig = hasher.signatures(keys)
    hashes, offsets = hasher.shingle_hashes(keys)
    for i in range(len(keys)):
        own = hashes[offsets[i] : offsets[i + 1]]
        if len(own):
            assert np.array_equal(sig[i], datasketch_signature(own, 32, 3))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=60), min_size=1, max_size=12), st.integers(1, 12),
       st.sampled_from([1, 3, 128]))
def test_the_compiled_loop_gives_the_numpy_values(keys: list[str], ngram: int, num_perm: int) -> None:
    compiled = MinHasher(num_perm=num_perm, seed=5, ngram=ngram, compiled=True)
    assert np.array_equal(compiled.signatures(keys), MinHasher(num_perm, 5, ngram, compiled=False).signatures(keys))


def test_the_compiled_loop_is_loaded_only_after_enough_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signatures, "COMPILED_AFTER_CHARS", 1000)
    keys = [f"paragraph {i} of a long enough page" for i in range(60)]  # 36 characters each
    hasher = MinHasher()
    def kernel_of(h: MinHasher) -> object:
        return h._kernel

    side = hasher.signatures(keys * 2, bulk=False)  # a side job never counts towards loading it
    first = hasher.signatures(keys[:20])  # 720 characters: numpy
    assert kernel_of(hasher) is None and not hasher._kernel_tried
    second = hasher.signatures(keys[20:])  # 2,160 in all: the compiled loop from here on
    assert kernel_of(hasher) is load_kernel() is not None
    plain = MinHasher(compiled=False)
    assert np.array_equal(side, plain.signatures(keys * 2))
    assert np.array_equal(hasher.signatures(keys, bulk=False), plain.signatures(keys))  # loaded: used
    assert np.array_equal(np.vstack([first, second]), plain.signatures(keys))
    again = pickle.loads(pickle.dumps(hasher))  # as sent to a worker: loads its own
    assert kernel_of(again) is None and not again._kernel_tried
    assert np.array_equal(again.signatures(keys), plain.signatures(keys))


def test_a_hasher_told_of_a_big_input_loads_the_compiled_loop_at_its_first_bulk_call() -> None:
    keys = ["a short paragraph", "and another one"]

    def loaded(h: MinHasher) -> bool:  # a call, so that each check reads the state afresh
        return h.compiled_loaded

    plain = MinHasher(compiled=False).signatures(keys)
    small = MinHasher()
    small.expect(signatures.COMPILED_AFTER_CHARS)  # not more than the threshold: numpy first
    assert np.array_equal(small.signatures(keys), plain) and not loaded(small)
    big = MinHasher()
    big.expect(signatures.COMPILED_AFTER_CHARS + 1)
    assert np.array_equal(big.signatures(keys, bulk=False), plain) and not loaded(big)  # a side job
    assert np.array_equal(big.signatures(keys), plain) and loaded(big)
    never = MinHasher(compiled=False)
    never.expect(1 << 40)
    assert np.array_equal(never.signatures(keys), plain) and not loaded(never)
    never.use_compiled()
    assert not loaded(never)
    side = MinHasher()
    side.use_compiled()  # numba is loaded anyway: even side jobs use it
    assert loaded(side) and np.array_equal(side.signatures(keys, bulk=False), plain)


def test_a_small_run_never_imports_numba_and_numpy_serves_without_it(tmp_path: Path) -> None:
    code = ("import sys; from dedup.signatures import MinHasher; sig = MinHasher().signatures(['some text']); "
            "print(int('numba' in sys.modules), sig[0, :3].tolist())")
    env = {**os.environ, "DEDUP_CACHE_DIR": str(tmp_path)}
    small = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert small.split(" ", 1)[0] == "0"
    # numba missing: asked for the compiled loop, the hasher signs with numpy, the same values
    without = ("import sys; sys.modules['numba'] = None; from dedup.signatures import MinHasher, load_kernel; "
               "sig = MinHasher(compiled=True).signatures(['some text']); print(int(load_kernel() is None), "
               "sig[0, :3].tolist())")
    missing = subprocess.run([sys.executable, "-c", without], env=env, capture_output=True, text=True,
                             check=True).stdout
    assert missing.split(" ", 1)[0] == "1"
    assert missing.split(" ", 1)[1] == small.split(" ", 1)[1]


def test_loading_the_compiled_code_skips_numbas_blas_probe_and_leaves_scipy_importable() -> None:
    code = ("import sys; from dedup.signatures import load_kernel; assert load_kernel() is not None; "
            "import numba.np.arraymath as m; print(int('scipy.linalg' in sys.modules), int(m._HAVE_BLAS), end=' '); "
            "import scipy.linalg.cython_blas; print(int(sys.modules['scipy.linalg.cython_blas'] is not None))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "0 0 1\n"
    # SciPy's linear algebra already there: nothing is skipped
    first = "import scipy.linalg; " + code
    assert subprocess.run([sys.executable, "-c", first], capture_output=True, text=True, check=True).stdout == "1 1 1\n"


def test_shingle_counts_and_short_keys() -> None:
    hasher = MinHasher(ngram=5)
    hashes, offsets = hasher.shingle_hashes(["abcdefg", "abc", "", "abcde"])
    assert offsets.tolist() == [0, 7, 10, 10, 15]  # one shingle per character, padded at the end
    # The same shingle has the same hash wherever it occurs ("abcde"), and a key's end is a
    # feature of its own ("abc" + padding differs from "abcde").
    assert hashes[0] == hashes[10]
    assert hashes[7] != hashes[10]


def test_signatures_batch_boundaries_do_not_change_values() -> None:
    keys = [f"paragraph number {i} " * (1 + i % 7) for i in range(3000)]
    hasher = MinHasher()
    whole = hasher.signatures(keys)
    parts = np.vstack([hasher.signatures(keys[:1234]), hasher.signatures(keys[1234:])])
    assert np.array_equal(whole, parts)


def test_estimate_tracks_jaccard() -> None:
    hasher = MinHasher(num_perm=256)
    a = "the quick brown fox jumps over the lazy dog and keeps running through the field"
    sig = hasher.signatures([a, a, a[:40] + " something else entirely different here"])
    assert jaccard_estimate(sig[0], sig[1]) == 1.0
    assert 0.1 < jaccard_estimate(sig[0], sig[2]) < 0.6


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        MinHasher(num_perm=0)
    with pytest.raises(ValueError):
        MinHasher(ngram=0)


def test_permutations_come_from_datasketch_then_from_the_cache(tmp_path: Path) -> None:
    a, b = permutations(64, 7, cache=tmp_path)
    want = MinHash(num_perm=64, seed=7, scheme="affine32").permutations
    assert np.array_equal(a, want[0].astype(np.uint32)) and np.array_equal(b, want[1].astype(np.uint32))
    (kept,) = tmp_path.glob("permutations-*-affine32-64-7.npy")
    assert np.array_equal(np.load(kept), np.stack([a, b]))
    kept.write_bytes(b"not an array")  # a damaged cache is computed again and replaced
    again = permutations(64, 7, cache=tmp_path)
    assert np.array_equal(again[0], a) and np.array_equal(again[1], b)
    assert np.array_equal(np.load(kept), np.stack([a, b]))
    assert [p.name for p in tmp_path.iterdir()] == [kept.name]  # no temporary file left behind


def test_a_warm_cache_spares_the_datasketch_import(tmp_path: Path) -> None:
    code = ("import sys; from dedup.signatures import MinHasher; sig = MinHasher().signatures(['some text']); "
            "print(int('datasketch' in sys.modules), sig[0, :3].tolist())")
    env = {**os.environ, "DEDUP_CACHE_DIR": str(tmp_path)}
    cold = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    warm = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert cold.split(" ", 1)[0] == "1" and warm.split(" ", 1)[0] == "0"
    assert cold.split(" ", 1)[1] == warm.split(" ", 1)[1]  # the same signature either way


def test_no_cache_directory_means_no_cache_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDUP_CACHE_DIR", "")
    assert cache_dir() is None
    monkeypatch.delenv("DEDUP_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "dedup"
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder would go")
    a, _ = permutations(16, 3, cache=blocked / "dedup")  # unwritable: computed, nothing kept
    assert np.array_equal(a, MinHash(num_perm=16, seed=3, scheme="affine32").permutations[0].astype(np.uint32))
