"""The persistent SQLite index: runs that remember, settings that bind, batches that are atomic."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest
from conftest import sentences

from dedup import Deduplicator, Document, Settings, pipeline
from dedup.keys import figure_print
from dedup.store import IndexMismatch, StoredIndex, stats

P1 = "The council opened a floating library on the old harbour on Saturday, in a former ferry."
P2 = "The ferry will stay moored at the north pier until October, then move to the river mouth."
P3 = "About eighty visitors fit in the reading room, which has a lift for wheelchair users too."


def opened(path: Path, settings: Settings | None = None) -> Deduplicator:
    dedup = Deduplicator(settings)
    dedup.index = StoredIndex.open(path, dedup.settings, dedup.hasher, dedup.banding)
    return dedup


def test_a_second_run_cleans_against_the_first(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    (a,) = opened(path).clean([Document("monday.txt", f"{P1}\n{P2}\n")])
    assert a.cleaned == f"{P1}\n{P2}\n"
    (b,) = opened(path).clean([Document("tuesday.txt", f"{P3}\n{P1}\n{P2}\n")])
    assert b.cleaned == f"{P3}\n"
    assert [e.kept[0].doc for e in b.edits] == ["monday.txt", "monday.txt"]
    s = stats(path)
    assert (s["documents"], s["paragraphs"], s["removed_paragraphs"], s["batches"]) == (2, 5, 2, 2)
    assert s["settings"]["num_perm"] == 128 and len(s["settings"]["permutations_sha256"]) == 16


def test_a_reopened_index_gives_the_same_result_as_one_run(tmp_path: Path) -> None:
    docs = [Document(f"{i}.txt", f"{P1 if i % 2 else P3}\n{P2} Number {i % 3}.\n") for i in range(6)]
    one = [r.cleaned for r in Deduplicator().clean(docs)]
    path = tmp_path / "i.sqlite"
    split = [r.cleaned for r in opened(path).clean(docs[:3])] + [r.cleaned for r in opened(path).clean(docs[3:])]
    assert split == one
    reopened = opened(path).index
    reopened.begin_batch()  # catches up with the file: keys, and the figure prints of their texts
    assert len(reopened.keys) == 5 and len({*reopened.key_prints}) == 4  # "Number 0", "1", "2", none
    assert list(reopened.key_prints) == [figure_print(k) for k in reopened.keys]


def test_worker_processes_write_one_batch_at_a_time(tmp_path: Path) -> None:
    # --jobs registers the next batch before deciding the current one, except on a stored index:
    # there each batch is one transaction, from its first key to its last.
    docs = [Document(f"{i:02d}.txt", f"{P1 if i % 2 else P3}\n{P2} Number {i % 3}.\n") for i in range(12)]
    size = 3 * len(docs[1].text)  # four batches of three documents (docs[1] is the shorter kind)
    one = [(r.cleaned, r.edits) for r in Deduplicator().clean(docs, batch_chars=size)]
    path = tmp_path / "i.sqlite"
    two = [(r.cleaned, r.edits) for r in opened(path).clean(docs, batch_chars=size, jobs=2)]
    assert two == one
    s = stats(path)
    assert (s["documents"], s["paragraphs"], s["batches"]) == (12, 24, 4)
    assert s["removed_paragraphs"] == sum(len(edits) for _, edits in one) == 19


def test_workers_verify_against_a_reopened_index_from_its_key_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   span_reads: list[int]) -> None:
    # the second run's workers read the texts of keys the first run stored (loaded into the
    # index's key file when the batch begins) as well as those of their own batch
    monkeypatch.setattr(pipeline, "MIN_PAIRS_TO_SHARE", 1)
    base = [sentences(3, seed=k) for k in range(40)]
    docs = [Document(f"{i:02d}.txt", f"{base[i]}\n{base[(i * 7) % 40].replace('e', 'a', 1)}\n") for i in range(40)]
    one = [(r.cleaned, r.edits) for r in Deduplicator().clean(docs, batch_chars=2000)]
    path = tmp_path / "i.sqlite"
    first = [(r.cleaned, r.edits) for r in opened(path).clean(docs[:20], batch_chars=2000)]
    second = [(r.cleaned, r.edits) for r in opened(path).clean(docs[20:], batch_chars=2000, jobs=2)]
    assert first + second == one
    assert sum(1 for _, edits in second for e in edits if e.rule == "near") > 5
    assert span_reads  # the second run's pairs went to the workers as spans of the key file


def test_other_settings_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    list(opened(path).clean([Document("a", P1)]))
    with pytest.raises(IndexMismatch, match="num_perm: index 128, this run 64"):
        opened(path, Settings(num_perm=64))
    with pytest.raises(IndexMismatch, match="threshold"):
        opened(path, Settings(threshold=0.9))
    opened(path, Settings(min_chars=10))  # decisions, not the index: allowed


def test_a_failed_batch_leaves_the_index_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "index.sqlite"
    list(opened(path).clean([Document("a", f"{P1}\n")]))  # clean() is lazy: consume it
    before = stats(path)
    dedup = opened(path)

    def boom(*args: object) -> None:
        raise RuntimeError("killed half way")

    monkeypatch.setattr(dedup, "_results", boom)
    with pytest.raises(RuntimeError):
        list(dedup.clean([Document("b", f"{P2}\n{P1}\n")]))
    after = stats(path)
    assert {k: after[k] for k in ("documents", "paragraphs", "unique_keys", "batches")} == \
        {k: before[k] for k in ("documents", "paragraphs", "unique_keys", "batches")}
    monkeypatch.undo()
    (b,) = dedup.clean([Document("b", f"{P2}\n{P1}\n")])  # the object is still usable
    assert b.cleaned == f"{P2}\n"


def test_a_failed_batch_forgets_what_it_scored_by_key_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Merged-line scores are remembered across batches by key id; a rolled-back batch gives its
    # key ids to other texts, so its scores must go with it.
    path = tmp_path / "index.sqlite"
    other = "Tickets for the summer concerts go on sale at the town hall on Monday at nine o'clock."
    dedup = opened(path)
    list(dedup.clean([Document("a", f"{P1}\n{P2}\n")]))

    def boom(*args: object) -> None:
        raise RuntimeError("killed half way")

    with monkeypatch.context() as m:
        m.setattr(dedup, "_results", boom)
        with pytest.raises(RuntimeError):  # "P1 P2" as one line: a merged line, scored, then undone
            list(dedup.clean([Document("b", f"{P1} {P2}\n")]))
    (c,) = dedup.clean([Document("c", f"{P1} {other}\n")])  # the same key id, another text
    fresh = opened(tmp_path / "fresh.sqlite")
    list(fresh.clean([Document("a", f"{P1}\n{P2}\n")]))
    (want,) = fresh.clean([Document("c", f"{P1} {other}\n")])
    assert c.cleaned == want.cleaned == f"{P1} {other}\n"
    (b,) = dedup.clean([Document("b", f"{P1} {P2}\n")])
    assert b.cleaned.strip() == "" and b.edits[0].rule == "merged"
    # the figure prints of the keys, which windows are turned down on, followed the rollback too
    assert list(dedup.index.key_prints) == [figure_print(k) for k in dedup.index.keys]


def _worker(path: str, name: str, texts: list[str], out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    dedup = opened(Path(path))
    results = []
    for i, text in enumerate(texts):  # one batch per document: the two processes interleave
        (r,) = dedup.clean([Document(f"{name}-{i}", text)])
        results.append(r.cleaned)
    out.put((name, results))


@pytest.mark.slow
def test_two_processes_serialise_on_one_index(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.sqlite")
    opened(Path(path))  # create it
    shared = [f"{P1} Copy {i}.\n{P2} Copy {i}.\n" for i in range(12)]
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(path, name, shared, out)) for name in ("a", "b")]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    # Every shared text survives exactly once across the two processes.
    kept = [text for name in ("a", "b") for text in results[name] if text.strip()]
    assert sorted(kept) == sorted(shared)
    s = stats(path)
    assert s["documents"] == 24 and s["removed_paragraphs"] == 24
    with sqlite3.connect(path) as c:
        ids = [row[0] for row in c.execute("SELECT id FROM paras ORDER BY id")]
    assert ids == list(range(48))
