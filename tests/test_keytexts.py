"""The index's key texts: interning by hash confirmed by exact text, and texts moved to a file."""

import warnings
from pathlib import Path

import numpy as np
import pytest

from dedup.index import Index
from dedup.keytexts import KeyTexts, file_identity, read_spans
from dedup.lsh import choose_banding


class OneHash(str):
    """A text whose hash clashes with every other OneHash (as two real keys' hashes could)."""

    def __hash__(self) -> int:
        return 12345


def test_texts_read_back_the_same_before_and_after_settling() -> None:
    texts = ["alpha", "béta \u2028 gamma", "lone \udcff surrogate", "", "x" * 5000]
    keys = KeyTexts(texts)
    assert list(keys) == texts
    keys.settle()
    assert list(keys) == texts
    assert keys.settled_bytes == sum(len(t.encode("utf-8", "surrogatepass")) for t in texts)
    assert keys.add("new") == 5
    assert keys[5] == "new" and keys[-1] == "new" and keys[1:3] == texts[1:3]
    keys.settle()
    keys.settle()  # nothing left to move
    assert keys[-2] == "x" * 5000 and len(keys) == 6
    with pytest.raises(IndexError):
        keys[6]
    keys.close()


def test_slices_equal_list_slices_in_memory_in_the_file_and_across() -> None:
    texts = [f"key {i}" for i in range(10)]
    keys = KeyTexts(texts)
    keys.settle(4)  # 0-3 in the file, 4-9 in memory
    for start in (None, -12, -3, 0, 2, 4, 5, 9, 10, 12):
        for stop in (None, -12, -2, 0, 3, 4, 6, 10, 12):
            for step in (None, 1, 2, -1):
                assert keys[start:stop:step] == texts[start:stop:step], (start, stop, step)
    keys.close()


def test_settling_up_to_a_key_keeps_the_later_ones_in_memory() -> None:
    texts = ["one", "two", "three", "four"]
    keys = KeyTexts(texts)
    keys.settle(2)  # a batch decided while the next one (keys 2, 3) is already registered
    assert keys.settled_bytes == len("onetwo") and list(keys) == texts
    keys.settle(1)  # already in the file
    assert keys.settled_bytes == len("onetwo")
    keys.settle(10)
    assert keys.settled_bytes == len("onetwothreefour") and list(keys) == texts
    assert keys.find("three") == 2 and keys.add("five") == 4
    keys.close()


def test_interning_finds_each_text_and_nothing_else() -> None:
    keys = KeyTexts(["one", "two"])
    keys.settle()
    assert keys.find("one") == 0 and keys.find("two") == 1 and keys.find("three") is None
    assert keys.add("three") == 2 and keys.find("three") == 2


def test_a_hash_clash_never_merges_two_keys() -> None:
    keys = KeyTexts()
    a, b, c = OneHash("first text"), OneHash("second text"), OneHash("third text")
    assert keys.add(a) == 0
    assert keys.find(b) is None  # same hash, other text
    assert keys.add(b) == 1
    keys.settle()
    assert keys.add(c) == 2
    assert (keys.find(a), keys.find(b), keys.find(c)) == (0, 1, 2)
    assert keys.find(OneHash("fourth text")) is None
    assert list(keys) == ["first text", "second text", "third text"]


class Hashed(str):
    """A text with a chosen hash (the extremes and the order of the settled hash table)."""

    chosen: int = 0

    def __hash__(self) -> int:
        return self.chosen


def _hashed(text: str, h: int) -> Hashed:
    out = Hashed(text)
    out.chosen = h
    return out


@pytest.mark.parametrize("prefetch", [False, True])
def test_settled_hashes_are_merged_in_order_and_found_after_many_settles(prefetch: bool) -> None:
    extremes = [-(2**63), 2**63 - 1, 0, -2, 7, 7]  # the last two clash
    texts = [_hashed(f"text {i}", h) for i, h in enumerate(extremes)] + [f"key {i}" for i in range(300)]
    keys = KeyTexts()
    for lo in range(0, len(texts), 50):
        if prefetch:  # as the pipeline does before interning a batch (then settles the one before)
            keys.prefetch(texts[max(0, lo - 30) : lo + 50])
        assert [keys.intern(t) for t in texts[lo : lo + 50]] == [(k, True) for k in range(lo, min(lo + 50, len(texts)))]
        keys.settle(lo + 25)  # half of this batch; the rest with the next one
    assert list(keys._hashes) == sorted(keys._hashes) and len(keys._hashes) + len(keys._ids) == len(texts) - 1
    if prefetch:
        keys.prefetch([*texts, "key 300"])
    assert [keys.intern(t) for t in texts] == [(k, False) for k in range(len(texts))]
    assert keys.intern("key 300") == (len(texts), True)
    keys.settle()  # "key 300" was looked up as new: it must be found once settled
    assert not keys._ids and len(keys._hashes) == len(texts)  # the clash is found by its text
    assert [keys.find(t) for t in texts] == list(range(len(texts)))
    assert keys.find(_hashed("other", 7)) is None and keys.find("key 301") is None
    assert keys.intern("key 300") == (len(texts), False)
    keys.close()


def test_the_index_interns_across_batches() -> None:
    index = Index(choose_banding(128, 0.85), 128)
    assert [index.intern(k) for k in ("a", "b", "a")] == [0, 1, 0]
    index.settle()
    assert [index.intern(k) for k in ("b", "c", "a", "c")] == [1, 2, 0, 2]
    assert list(index.keys) == ["a", "b", "c"] and list(index.key_len) == [1, 1, 1]


def test_without_a_usable_temporary_directory_the_texts_stay_in_memory(tmp_path: Path) -> None:
    keys = KeyTexts(["one", "two"], directory=str(tmp_path / "missing"))
    with pytest.warns(RuntimeWarning, match="keeping them in memory"):
        keys.settle()
    assert keys.add("three") == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        keys.settle()  # no second warning: it does not try again
    assert list(keys) == ["one", "two", "three"] and keys.find("two") == 1 and keys.settled_bytes == 0


def test_texts_written_through_are_read_back_by_span_from_a_forked_process() -> None:
    import multiprocessing

    texts = ["alpha", "", "béta \u2028 gamma", "lone \udcff surrogate", "日本語のテキスト", "x" * 5000, "end"]
    keys = KeyTexts(texts[:3])
    fd = keys.share()
    assert fd is not None and fd >= 0
    keys.settle(2)  # 0-1 settled, 2 in memory
    for t in texts[3:]:
        keys.add(t)
    assert keys.write_through()  # 2-6 into the file too, still in memory
    assert keys.settled_bytes == len("alpha") and list(keys) == texts
    ids = np.array([0, 1, 2, 4, 5, 6], dtype=np.int64)
    starts, ends = keys.spans(ids)
    assert read_spans(fd, file_identity(fd), starts, ends) == [texts[i] for i in ids.tolist()]
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:  # a process forked after share() reads the same file
        assert pool.apply(read_spans, (fd, file_identity(fd), starts, ends)) == [texts[i] for i in ids.tolist()]
    keys.settle()  # nothing more to write: the memory copies go
    assert list(keys) == texts and keys.settled_bytes == sum(len(t.encode("utf-8", "surrogatepass")) for t in texts)
    keys.add("late")
    with pytest.raises(IndexError, match="not in the file"):
        keys.spans(np.array([7], dtype=np.int64))
    keys.close()


def test_spans_are_read_one_by_one_where_the_file_cannot_be_mapped(monkeypatch: pytest.MonkeyPatch) -> None:
    import mmap

    texts = ["alpha", "béta", "", "lone \udcff surrogate"]
    keys = KeyTexts(texts)
    fd = keys.share()
    assert fd is not None and keys.write_through()
    starts, ends = keys.spans(np.arange(4, dtype=np.int64))

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(19, "No such device")  # ENODEV: what mmap says where mapping is not supported

    monkeypatch.setattr(mmap, "mmap", refuse)
    assert read_spans(fd, file_identity(fd), starts, ends) == texts
    keys.close()


def test_empty_texts_and_no_texts_read_back() -> None:
    keys = KeyTexts(["", "", "a"])
    fd = keys.share()
    assert fd is not None and keys.write_through()
    starts, ends = keys.spans(np.array([0, 1], dtype=np.int64))
    assert read_spans(fd, file_identity(fd), starts, ends) == ["", ""]
    starts, ends = keys.spans(np.array([], dtype=np.int64))
    assert read_spans(fd, file_identity(fd), starts, ends) == []
    keys.close()


def test_reading_spans_refuses_a_descriptor_that_names_another_file(tmp_path: Path) -> None:
    keys = KeyTexts(["one", "two"])
    fd = keys.share()
    assert fd is not None and keys.write_through()
    other = tmp_path / "other"
    other.write_bytes(b"onetwo")
    with other.open("rb") as fh:
        starts, ends = keys.spans(np.array([0, 1], dtype=np.int64))
        with pytest.raises(RuntimeError, match="not the key file"):
            read_spans(fh.fileno(), file_identity(fd), starts, ends)
    keys.close()


def test_without_a_usable_temporary_directory_nothing_is_shared(tmp_path: Path) -> None:
    keys = KeyTexts(["one", "two"], directory=str(tmp_path / "missing"))
    assert keys.share() is None and not keys.write_through()
    with pytest.warns(RuntimeWarning, match="keeping them in memory"):
        keys.settle()
    assert keys.share() is None and list(keys) == ["one", "two"]
