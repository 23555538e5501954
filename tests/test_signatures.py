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

from dedup import compiled
from dedup.signatures import EMPTY_VALUE, MinHasher, cache_dir, jaccard_estimate, permutations


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


def test_the_compiled_loop_reads_keys_of_every_storage_width_in_place() -> None:
    # one, two and four bytes a character in one call, lone surrogates (text decoded with
    # surrogateescape hashes as its code points), keys shorter than a shingle, empty keys, a tuple
    keys = ("", "a", "abcd", "caf\u00e9 au lait", "\u2019quote\u2019 \u4e00\u4e8c", "\U0001f600 astral \U0001d7d8",
            "lone \udcff surrogate", "x" * 3000, "\u00e9" * 7, "")
    for ngram in (1, 5, 12):
        compiled = MinHasher(num_perm=64, seed=2, ngram=ngram, compiled=True)
        numpy_only = MinHasher(num_perm=64, seed=2, ngram=ngram, compiled=False)
        assert np.array_equal(compiled.signatures(keys), numpy_only.signatures(list(keys)))
    assert compiled.signatures([]).shape == (0, 64)


def test_this_install_has_the_compiled_loops_and_every_hasher_uses_them() -> None:
    # CI builds the extension from a fresh clone: this fails if the build did not happen
    assert compiled.available()
    keys = [f"paragraph {i} of a long enough page" for i in range(60)]
    hasher = MinHasher()
    assert hasher.compiled and not MinHasher(compiled=False).compiled
    again = pickle.loads(pickle.dumps(hasher))  # as sent to a worker process
    assert again.compiled
    plain = MinHasher(compiled=False).signatures(keys)
    assert np.array_equal(hasher.signatures(keys), plain) and np.array_equal(again.signatures(keys), plain)


def test_without_the_extension_numpy_gives_the_same_values(tmp_path: Path) -> None:
    code = ("import sys; {block}from dedup import Deduplicator, Document, compiled; "
            "from dedup.signatures import MinHasher; d = Deduplicator(); "
            "sig = MinHasher().signatures(['some text', 'and more text']); "
            "p = 'A paragraph long enough to be removed when it is said twice.'; "
            "r = d.run([Document('a', p + chr(10) + 'Between.' + chr(10) + p + chr(10))]); "
            "print(int(compiled.available()), int(d._agreement is None), sig[:, :4].tolist(), "
            "repr(r.documents[0].cleaned))")
    env = {**os.environ, "DEDUP_CACHE_DIR": str(tmp_path)}
    outputs = []
    for block in ("", "sys.modules['dedup._kernels'] = None; "):
        run = subprocess.run([sys.executable, "-c", code.format(block=block)], env=env, capture_output=True,
                             text=True, check=True)
        outputs.append(run.stdout.split(" ", 2))
    (with_c, with_c_gate, with_c_rest), (without, without_gate, without_rest) = outputs
    assert (with_c, with_c_gate, without, without_gate) == ("1", "0", "0", "1")
    assert with_c_rest == without_rest
    assert with_c_rest.endswith("'A paragraph long enough to be removed when it is said twice.\\nBetween.\\n'\n")


def test_the_compiled_loops_refuse_arrays_that_do_not_fit() -> None:
    from dedup import _kernels

    u32, i64 = np.uint32, np.int64
    mult, a, b = np.ones(5, dtype=np.uint64), np.ones(4, dtype=u32), np.zeros(4, dtype=u32)
    out = np.empty((2, 4), dtype=u32)
    _kernels.signatures(["abcdef", ""], mult, a, b, out)
    assert out[1].tolist() == [0xFFFFFFFF] * 4  # no shingle: datasketch's empty signature
    with pytest.raises(ValueError, match="sizes"):
        _kernels.signatures(["abcdef"], mult, a, b, out)
    with pytest.raises(TypeError, match="key 1 is bytes"):
        _kernels.signatures(["abcdef", b"x"], mult, a, b, out)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="multipliers"):
        _kernels.signatures(["a", "b"], mult.astype(np.int32), a, b, out)
    read_only = np.frombuffer(bytes(32), dtype=u32).reshape(2, 4)
    with pytest.raises(ValueError, match="read-only"):
        _kernels.signatures(["a", "b"], mult, a, b, read_only)
    sketch = np.zeros((3, 8), dtype=np.uint8)
    share = np.empty(1)
    _kernels.agreement(sketch, 8, np.array([[0, 2]], dtype=i64), share)
    assert share.tolist() == [1.0]
    with pytest.raises(IndexError, match="pair 0"):
        _kernels.agreement(sketch, 8, np.array([[0, 3]], dtype=i64), share)
    with pytest.raises(ValueError):
        _kernels.agreement(sketch, 8, np.array([[0, 1], [1, 2]], dtype=i64), share)
    values, ids = np.zeros(3, dtype=u32), np.zeros(3, dtype=np.int32)  # key 0 (value 0), room for two
    new_ids = np.ones(1, dtype=np.int32)
    pairs = _kernels.add_bands([values], [ids], 1, np.zeros((1, 1), dtype=u32), new_ids, 16, 2)
    assert np.frombuffer(pairs, dtype=i64).tolist() == [0, 1]  # key 1 paired with key 0
    assert values[:2].tolist() == [0, 0] and ids[:2].tolist() == [0, 1]
    with pytest.raises(ValueError, match="no room"):
        _kernels.add_bands([values], [ids], 3, np.zeros((1, 1), dtype=u32), new_ids, 16, 2)
    with pytest.raises(ValueError, match="one row of bands"):
        _kernels.add_bands([values], [ids], 1, np.zeros((1, 2), dtype=u32), new_ids, 16, 2)
    with pytest.raises(ValueError, match="increase"):
        _kernels.add_bands([values], [ids], 1, np.zeros((1, 1), dtype=u32), new_ids, 16, 1)
    with pytest.raises(ValueError, match="both lists"):
        _kernels.add_bands([values], [], 1, np.zeros((1, 1), dtype=u32), new_ids, 16, 2)
    flags = np.empty(1, dtype=np.uint8)
    _kernels.gate(sketch, 8, np.array([[0, 2]], dtype=i64), np.array([60, 0, 120], dtype=np.int32), 60, 0.5, 100,
                  flags)
    assert flags.tolist() == [3]  # equal sketches pass; a key of 120 characters is long here
    with pytest.raises(IndexError, match="pair 0"):
        _kernels.gate(sketch, 8, np.array([[0, 3]], dtype=i64), np.zeros(4, dtype=np.int32), 60, 0.5, 100, flags)
    with pytest.raises(IndexError, match="pair 0"):  # a key the lengths do not cover
        _kernels.gate(sketch, 8, np.array([[0, 2]], dtype=i64), np.zeros(2, dtype=np.int32), 60, 0.5, 100, flags)
    with pytest.raises(ValueError, match="sizes"):
        _kernels.gate(sketch, 8, np.array([[0, 2]], dtype=i64), np.zeros(3, dtype=np.int32), 60, 0.5, 100,
                      np.empty(2, dtype=np.uint8))
    with pytest.raises(ValueError, match="read-only"):
        _kernels.add_bands([np.frombuffer(bytes(12), dtype=u32)], [ids], 1, np.zeros((1, 1), dtype=u32), new_ids, 16, 2)



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
