"""The whole library flow: ordering, determinism, scope and the simple entry point."""

import random
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from itertools import pairwise
from typing import Any

import numpy as np
import pytest
from conftest import removal, run, sentences

from dedup import Deduplicator, Document, Settings, clean_texts, compiled, pipeline
from dedup.apply import restore
from dedup.index import Index
from dedup.lsh import band_values
from dedup.pipeline import GATE_SHARE, LONG_KEY_CHARS, MAX_LONG_CANDIDATES, gate, plausible_pairs
from dedup.plan import Plan, Planner
from dedup.segment import MAX_PARAGRAPH_CHARS, split_long
from dedup.signatures import MinHasher

P1 = "The council opened a floating library on the old harbour on Saturday, in a former ferry."
P2 = "The ferry will stay moored at the north pier until October, then move to the river mouth."
P3 = "About eighty visitors fit in the reading room, which has a lift for wheelchair users too."


def test_documents_are_processed_in_id_order_whatever_the_input_order() -> None:
    docs = {"b.txt": f"{P1}\n{P2}\n", "a.txt": f"{P3}\n{P1}\n"}
    first = run(docs)
    second = run(dict(reversed(list(docs.items()))))
    assert [d.document.id for d in first.documents] == ["a.txt", "b.txt"]
    assert first == second
    assert first.documents[1].cleaned == f"{P2}\n"  # b.txt loses P1: a.txt comes first


def test_results_carry_edits_and_clusters() -> None:
    result = run({"a": f"{P1}\n{P2}\n{P1}\n"})
    doc = result.documents[0]
    assert doc.changed and doc.paragraphs == 3 and doc.mode == "line"
    (edit,) = doc.edits
    start = len(P1) + len(P2) + 1
    assert (edit.start, edit.end, edit.old, edit.rule) == (start, len(doc.document.text) - 1, "\n" + P1, "exact")
    assert edit.kept[0].index == 0 and removal(edit)[0].index == 2
    assert len(result.clusters) == 1
    assert [m.status for m in result.clusters[0].members] == ["canonical", "removed"]


def test_duplicate_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="share the id"):
        Deduplicator().run([Document("a", "x"), Document("a", "y")])


def test_clean_texts_keeps_the_input_order() -> None:
    assert clean_texts([f"{P1}\n", f"{P2}\n{P1}\n"]) == [f"{P1}\n", f"{P2}\n"]
    assert clean_texts([]) == []


def test_empty_and_blank_documents_pass_through() -> None:
    out = run({"a": "", "b": "  \n\n", "c": f"{P1}\n"})
    assert [d.cleaned for d in out.documents] == ["", "  \n\n", f"{P1}\n"]


def test_settings_are_validated() -> None:
    for bad in ({"threshold": 0}, {"threshold": 1.5}, {"num_perm": 1}, {"keep": "last"},
                {"scope": "world"}, {"min_chars": -1}, {"lsh_recall_at": 1.0}, {"run_window": 0}):
        with pytest.raises(ValueError):
            Settings(**bad)


def test_settings_fingerprint_changes_with_settings() -> None:
    assert Settings().fingerprint() == Settings().fingerprint()
    assert Settings().fingerprint() != Settings(threshold=0.9).fingerprint()
    assert Settings().fingerprint().startswith("sha256:")


def test_progress_callback_sees_the_stages() -> None:
    seen: list[str] = []
    Deduplicator().run([Document("a", f"{P1}\n{P1}\n")], progress=lambda s, d, t: seen.append(s))
    assert {"sign", "index", "verify", "apply"} <= set(seen)


def test_clean_remembers_earlier_batches() -> None:
    dedup = Deduplicator()
    (first,) = dedup.clean([Document("monday", f"{P1}\n{P2}\n")])
    (second,) = dedup.clean([Document("tuesday", f"{P3}\n{P1}\n")])
    assert first.cleaned == f"{P1}\n{P2}\n"
    assert second.cleaned == f"{P3}\n"
    (edit,) = second.edits
    assert edit.kept[0].doc == "monday"
    # run() always starts from a fresh index
    assert dedup.run([Document("tuesday", f"{P3}\n{P1}\n")]).documents[0].cleaned == f"{P3}\n{P1}\n"


def test_worker_processes_give_the_same_result() -> None:
    docs = [Document(f"{i:03d}", f"{P1 if i % 3 else P2}\nSentence {i} of the report.\n{P3}\n") for i in range(40)]
    one = [(r.cleaned, r.edits) for r in Deduplicator().clean(docs, batch_chars=2000)]
    two = [(r.cleaned, r.edits) for r in Deduplicator().clean(docs, batch_chars=2000, jobs=2)]
    assert two == one


def test_an_input_of_one_small_batch_starts_no_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []

    class Counted(ProcessPoolExecutor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            started.append(kwargs["max_workers"])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(pipeline, "ProcessPoolExecutor", Counted)
    docs = [Document(f"{i:03d}", f"{P1 if i % 3 else P2}\nSentence {i} of the report.\n{P3}\n") for i in range(40)]
    one = [(r.cleaned, r.edits) for r in Deduplicator().clean(docs)]
    assert sum(len(d.text) for d in docs) < pipeline.SMALL_INPUT_CHARS
    assert [(r.cleaned, r.edits) for r in Deduplicator().clean(docs, jobs=2)] == one and started == []
    # several batches, or one batch of keep=longest at least SMALL_INPUT_CHARS long: the workers
    assert [(r.cleaned, r.edits) for r in Deduplicator().clean(docs, batch_chars=2000, jobs=2)] == one
    assert started == [2]
    big = docs * (pipeline.SMALL_INPUT_CHARS // sum(len(d.text) for d in docs) + 1)
    big = [Document(f"{i:05d}", d.text) for i, d in enumerate(big)]
    longest = Settings(keep="longest")
    assert [r.cleaned for r in Deduplicator(longest).clean(big, jobs=2)] == \
        [r.cleaned for r in Deduplicator(longest).clean(big)]
    assert started == [2, 2]
    assert list(Deduplicator().clean([], jobs=2)) == [] and started == [2, 2]


@pytest.mark.parametrize(("jobs", "read_first"), [(1, 1), (2, 3)])
def test_results_come_while_the_input_is_still_being_read(jobs: int, read_first: int) -> None:
    # A stream (stdin, a pipe) gets each batch's results early: one job after that batch, more
    # jobs once two more batches are read (they are prepared meanwhile), never at the end.
    read: list[int] = []

    def documents() -> Iterator[Document]:
        for i in range(6):
            read.append(i)
            yield Document(f"{i}", f"{P1 if i % 2 else P2}\nLine {i} of a stream.\n{P3}\n")

    seen: list[tuple[str, int]] = []
    for r in Deduplicator().clean(documents(), batch_chars=100, jobs=jobs):  # one document a batch
        seen.append((r.document.id, len(read)))
    assert [doc for doc, _ in seen] == ["0", "1", "2", "3", "4", "5"]
    assert seen[0][1] == read_first
    assert [n for _, n in seen] == [min(6, read_first + k) for k in range(6)]


def test_a_batch_registered_early_does_not_change_the_one_before() -> None:
    # With --jobs, batch k+1 is registered before batch k is planned. Batch 1 holds a merged
    # line (a, b, then "a b"); batch 2 has the same text as the first piece of an over-long line.
    # Pieces never become merge containers, but only from their own batch on: batch 1 must still
    # record "a b" as a container of a and remove it as merged.
    line = sentences(600, seed=300)
    (start, end), *_ = split_long(line, 0, len(line))
    merged = line[start:end]
    cut = merged.index(". ", len(merged) // 2) + 1
    a, b = merged[:cut], merged[cut + 1 :]
    docs = [Document("1", f"Opening words here.\n{a}\n{b}\n{merged}\n"), Document("2", f"Intro.\n{line}\nEnd.\n")]
    size = len(docs[0].text)  # one document per batch
    one = [(r.cleaned, r.edits) for r in Deduplicator().clean(docs, batch_chars=size)]
    two = [(r.cleaned, r.edits) for r in Deduplicator().clean(docs, batch_chars=size, jobs=2)]
    assert two == one
    assert [(e.rule, e.old.strip()) for e in one[0][1]] == [("merged", merged)]
    assert [(e.rule, e.old.strip()) for e in one[1][1]] == [("merged", merged)]


@pytest.mark.parametrize("shared", [True, False])
def test_pairs_verified_by_workers_give_the_same_result(monkeypatch: pytest.MonkeyPatch, shared: bool,
                                                       span_reads: list[int]) -> None:
    # shared: the workers read the keys' texts from the index's key file; else they are sent
    spans = span_reads
    if not shared:
        monkeypatch.setattr(Deduplicator, "_share_keys", lambda self: None)
    rnd = random.Random(3)
    base = [sentences(3, seed=k) for k in range(300)]
    docs = []
    for i in range(150):
        copy = base[rnd.randrange(300)]
        cut = copy[: len(copy) * 2 // 3] + "..."
        typo = copy.replace("o", "0", 1) if i % 2 else copy.replace(" ", "  ", 2).replace("a", "e", 1)
        docs.append(Document(f"{i:03d}", f"{base[i]}\n{typo}\n{cut}\n{base[i + 150]}\n"))
    monkeypatch.setattr(pipeline, "MIN_PAIRS_TO_SHARE", 1)  # every batch's pairs go to the workers
    one = [(r.cleaned, r.edits) for r in Deduplicator().clean(docs, batch_chars=6000)]
    assert spans == []
    two = [(r.cleaned, r.edits) for r in Deduplicator().clean(docs, batch_chars=6000, jobs=2)]
    assert two == one
    assert (len(spans) > 10) == shared  # each chunk of pairs read its texts from the file, or not
    rules = Counter(e.rule for _, edits in one for e in edits if e.op == "remove")
    assert rules["near"] > 10 and rules["truncated"] > 10


def test_a_body_captured_twice_on_one_long_line_goes_piece_by_piece() -> None:
    body = sentences(1500, seed=7)
    assert len(body) > 3 * MAX_PARAGRAPH_CHARS
    text = "Title\n" + body + " " + body + "\nEnd.\n"
    doc = run({"a.txt": text}).documents[0]
    assert doc.paragraphs > 6
    assert restore(doc.cleaned, doc.edits) == text
    assert doc.cleaned.startswith("Title\n" + body) and doc.cleaned.endswith("\nEnd.\n")
    assert len(doc.cleaned) < len(text) - len(body) + MAX_PARAGRAPH_CHARS  # all but one piece's worth went
    for e in doc.edits:
        assert e.old.strip() and "\n" not in e.old  # pieces go inside the line
    again = run({"a.txt": doc.cleaned}).documents[0]
    assert again.edits == ()


def _indexed(keys: list[str]) -> tuple[Index, np.ndarray]:
    """An index of ``keys`` and every pair of them."""
    index = Deduplicator().index
    for key in keys:
        index.intern(key)
    index.add_sketches(0, MinHasher().signatures(keys))
    return index, np.array([(i, j) for i in range(len(keys)) for j in range(i + 1, len(keys))], dtype=np.int64)


def test_long_keys_are_verified_against_their_best_earlier_candidates_only() -> None:
    keys = [sentences(400, seed=s) for s in range(40)]  # long, and much alike (one small vocabulary)
    assert min(len(k) for k in keys) >= LONG_KEY_CHARS
    index, pairs = _indexed(keys)
    kept = plausible_pairs(pairs, index)
    agree = index.agreement(pairs)
    assert agree.max() >= GATE_SHARE  # the gate alone would let many through
    assert 0 < len(kept) <= (MAX_LONG_CANDIDATES + 1) * len(keys) < len(pairs)
    kept_set = {tuple(p) for p in kept.tolist()}
    for k in range(1, len(keys)):
        mine = np.flatnonzero(pairs[:, 1] == k)  # (earlier, k), earliest first
        chosen = {tuple(p) for p in pairs[mine].tolist() if tuple(p) in kept_set}
        passing = mine[agree[mine] >= GATE_SHARE]
        best = passing[np.argsort(-agree[passing], kind="stable")[:MAX_LONG_CANDIDATES]]  # ties: earlier
        assert chosen == {tuple(p) for p in pairs[[*best, *passing[:1]]].tolist()}  # and the earliest


def test_which_long_key_pairs_are_verified_does_not_depend_on_batches() -> None:
    # Each batch gates the pairs whose later key it brings; the union over any cut of the keys
    # into batches is what the gate keeps of all pairs at once (the Spark engine's view).
    sizes = [400, 3, 1, 400, 5, 2, 400, 3, 400, 400] * 4  # long, short, tiny
    keys = [sentences(n, seed=s) for s, n in enumerate(sizes)]
    index, pairs = _indexed(keys)
    at_once = plausible_pairs(pairs, index)
    lengths = np.array([len(k) for k in keys])
    long_pairs = (lengths[at_once[:, 0]] >= LONG_KEY_CHARS) | (lengths[at_once[:, 1]] >= LONG_KEY_CHARS)
    assert long_pairs.sum() > MAX_LONG_CANDIDATES * 2  # the rule decides here
    for cuts in ([10, 20, 30], [1, 2, 3, 5, 8, 13, 21, 34], list(range(1, len(keys)))):
        bounds = [0, *cuts, len(keys)]
        batched = [plausible_pairs(pairs[(pairs[:, 1] >= lo) & (pairs[:, 1] < hi)], index)
                   for lo, hi in pairwise(bounds)]
        assert sorted(np.concatenate(batched).tolist()) == at_once.tolist()


def test_over_long_copies_give_the_same_result_for_any_batch_size_and_jobs() -> None:
    rnd = random.Random(11)
    body = sentences(200, seed=21)
    assert LONG_KEY_CHARS <= len(body) < MAX_PARAGRAPH_CHARS
    words = body.split(" ")
    docs = []
    for d in range(16):  # near copies of one long paragraph, each edited in two places
        copy = list(words)
        for _ in range(2):
            copy[rnd.randrange(len(copy))] = "changed"
        docs.append(Document(f"{d:02d}", f"Story {d} opens here.\n{' '.join(copy)}\nStory {d} ends here.\n"))
    whole = [(r.cleaned, r.edits) for r in Deduplicator().clean(docs)]
    assert sum(len(edits) for _, edits in whole) == 15  # every copy after the first goes
    for batch_chars in (1, 3 * len(docs[0].text)):
        for jobs in (1, 2):
            got = [(r.cleaned, r.edits) for r in Deduplicator().clean(docs, batch_chars=batch_chars, jobs=jobs)]
            assert got == whole, (batch_chars, jobs)


def test_the_gate_gives_the_same_pairs_in_chunks_as_at_once() -> None:
    keys = [sentences(n, seed=s) for s, n in enumerate([400, 3, 1, 400, 5, 2, 400, 3] * 4)]  # long, short, tiny
    index, pairs = _indexed(keys)
    lengths = np.array([len(k) for k in keys])
    at_once = pairs[gate(pairs, lengths[pairs[:, 0]], lengths[pairs[:, 1]], lambda idx: index.agreement(pairs[idx]))]
    assert 0 < len(at_once) < len(pairs)
    for chunk in (1, 7, 100, len(pairs)):
        assert plausible_pairs(pairs, index, chunk=chunk).tolist() == at_once.tolist()


def test_the_compiled_gate_gives_the_numpy_agreement_and_pairs() -> None:
    keys = [sentences(n, seed=s) for s, n in enumerate([400, 3, 1, 400, 5, 2, 400, 3, 40, 41] * 4)]
    index, pairs = _indexed(keys)
    count = compiled.agreement()
    assert count is not None
    assert index.agreement(pairs, count).tolist() == index.agreement(pairs).tolist()  # exactly, as floats
    assert plausible_pairs(pairs, index, chunk=9, count=count).tolist() == plausible_pairs(pairs, index).tolist()
    one_pass = compiled.gate()
    assert one_pass is not None
    want = plausible_pairs(pairs, index).tolist()
    assert plausible_pairs(pairs, index, compiled_gate=one_pass).tolist() == want
    assert plausible_pairs(pairs, index, count=count, compiled_gate=one_pass).tolist() == want
    long = [k for k, key in enumerate(keys) if len(key) >= pipeline.LONG_KEY_CHARS]
    with_long = [p for p in pairs.tolist() if p[1] in long]  # the ranking of long keys dropped some
    assert len([p for p in want if p[1] in long]) < len(with_long)
    flags = index.gate_flags(pairs, one_pass, pipeline.GATE_MIN_CHARS, pipeline.GATE_SHARE, pipeline.LONG_KEY_CHARS)
    assert set(flags.tolist()) <= {0, 1, 2, 3} and (flags & 2).any() and not (flags & 1).all()


@pytest.mark.parametrize("jobs", [1, 2])
def test_every_run_uses_the_compiled_loops_and_they_change_no_result(jobs: int) -> None:
    docs = [Document(f"{i:03d}", f"{P1 if i % 3 else P2}\nSentence {i} of the report.\n{P3}\n") for i in range(9)]
    fast = Deduplicator()
    assert fast.hasher.compiled and fast._agreement is not None  # from the first key: loading costs nothing
    got = [(r.cleaned, r.edits) for r in fast.clean(docs, batch_chars=400, jobs=jobs)]
    assert fast.index.bands.compiled is not None and pipeline._tools(fast.settings)[1].compiled
    plain = Deduplicator()  # as an install without the extension runs
    plain.hasher = MinHasher(plain.settings.num_perm, plain.settings.seed, plain.settings.ngram, compiled=False)
    plain._agreement = plain._band_add = plain._gate = None
    assert [(r.cleaned, r.edits) for r in plain.clean(docs, batch_chars=400)] == got
    assert plain.index.bands.compiled is None
    assert any(r[1] for r in got)  # something was removed: the comparison means something


def test_a_worker_signs_its_chunk_at_once_in_key_order() -> None:
    docs = [Document("a", f"{P1}\n{P2}\n"), Document("empty", "  \n"), Document("b", f"{P3}\n{P1}\n")]
    engine = Deduplicator()
    prepared, signatures, bands = pipeline._prepare_chunk(Settings(), engine.index.banding, docs)
    keys = [k for p in prepared for k in p.keys]
    assert [len(p.keys) for p in prepared] == [2, 0, 2]
    assert np.array_equal(signatures, MinHasher().signatures(keys))
    assert np.array_equal(bands, band_values(signatures, engine.index.banding))
    # the main process takes the new keys' rows: the repeated P1 key is signed once in the index
    opened = engine._open(docs, prepared, lambda *a: None, signatures, bands)
    assert np.array_equal(opened.signatures, signatures[[0, 1, 2]])
    assert list(engine.index.keys) == keys[:3]
    # the band values it sent fill the LSH table exactly as if the main process had hashed them
    near = [Document("c", f"{P1} Again.\n{P2}\n")]
    more, more_signatures, more_bands = pipeline._prepare_chunk(Settings(), engine.index.banding, near)
    by_main = Deduplicator()
    by_main._open(docs, prepared, lambda *a: None, signatures)
    given = engine._open(near, more, lambda *a: None, more_signatures, more_bands)
    hashed = by_main._open(near, more, lambda *a: None, more_signatures)
    assert np.array_equal(given.pairs, hashed.pairs) and len(given.pairs) > 0
    for b in range(engine.index.banding.bands):
        assert np.array_equal(engine.index.bands.band(b)[0], by_main.index.bands.band(b)[0])
        assert np.array_equal(engine.index.bands.band(b)[1], by_main.index.bands.band(b)[1])


def test_chunks_no_worker_started_are_prepared_by_the_main_process() -> None:
    from concurrent.futures import Future

    docs = [Document(f"{i}", f"{P1 if i % 2 else P2}\nLine {i} of the notice.\n{P3}\n") for i in range(6)]
    engine = Deduplicator()
    chunks = [docs[0:2], docs[2:4], docs[4:6]]
    expected = [pipeline._prepare_chunk(engine.settings, engine.index.banding, c) for c in chunks]
    done: Future[pipeline._PreparedChunk] = Future()
    done.set_running_or_notify_cancel()  # a worker took it ...
    done.set_result(expected[1])  # ... and sent it back
    waiting_first: Future[pipeline._PreparedChunk] = Future()  # still queued in the pool: taken back
    waiting_last: Future[pipeline._PreparedChunk] = Future()
    got = engine._prepared([(waiting_first, chunks[0]), (done, chunks[1]), (waiting_last, chunks[2])])
    assert waiting_first.cancelled() and waiting_last.cancelled() and not done.cancelled()
    assert got[1] is expected[1]
    for (prepared, signatures, bands), (want, want_signatures, want_bands) in zip(got, expected, strict=True):
        assert prepared == want
        assert np.array_equal(signatures, want_signatures) and np.array_equal(bands, want_bands)


def test_without_cluster_bookkeeping_the_results_are_the_same() -> None:
    docs = [Document("a", f"{P1}\n{P2}\n{P1}\n"), Document("b", f"{P3}\n{P2}\n")]
    tracked = Deduplicator()
    untracked = Deduplicator(clusters=False)
    assert list(tracked.clean(docs)) == list(untracked.clean(docs))
    assert len(tracked.clusters()) == 2
    assert untracked._notes == {} and untracked._edges == []
    with pytest.raises(RuntimeError, match="clusters=False"):
        untracked.clusters()


def test_the_collector_is_tuned_inside_the_block_and_restored_after() -> None:
    import gc

    from dedup import collector_tuned

    before = gc.get_threshold()
    with pytest.raises(KeyError), collector_tuned():
        assert gc.get_threshold() == pipeline.COLLECTOR_THRESHOLDS != before
        raise KeyError("restored on the way out too")
    assert gc.get_threshold() == before


def test_worker_processes_start_with_the_tuned_collector() -> None:
    import gc
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(1, mp_context=ctx, initializer=pipeline._start_worker, initargs=(os.getpid(),)) as pool:
        assert pool.submit(gc.get_threshold).result() == pipeline.COLLECTOR_THRESHOLDS
    assert gc.get_threshold() != pipeline.COLLECTOR_THRESHOLDS


@pytest.mark.parametrize("where", ["helper", "plan"])
def test_a_failure_beside_the_helper_thread_rolls_back_once_the_helper_is_done(
        where: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # With --jobs, a helper thread indexes batch k+1 while the main thread plans batch k: a
    # failure on either side is raised from clean(), and the index is rolled back only once the
    # helper has stopped touching it.
    docs = [Document(f"{i:03d}", f"{P1 if i % 2 else P2}\nSentence {i} of the report.\n{P3}\n") for i in range(12)]
    events: list[str] = []
    pairs_of, plan, rollback = (pipeline.Deduplicator._candidate_pairs, Planner.plan,
                                pipeline.Deduplicator._rollback)

    def candidate_pairs(self: Deduplicator, registered: object) -> object:
        events.append("helper")
        if where == "helper" and events.count("helper") == 2:
            raise RuntimeError("the helper failed")
        out = pairs_of(self, registered)  # type: ignore[arg-type]
        if where == "plan" and events.count("helper") >= 2:
            time.sleep(0.3)  # still indexing when the plan fails: the rollback must wait for it
        events.append("helper done")
        return out

    def planned(self: Planner, index: Index, lo: int, hi: int) -> Plan:
        if where == "plan" and lo > 0:
            raise RuntimeError("the plan failed")
        return plan(self, index, lo, hi)

    def rolled_back(self: Deduplicator) -> None:
        events.append("rollback")
        rollback(self)

    monkeypatch.setattr(pipeline.Deduplicator, "_candidate_pairs", candidate_pairs)
    monkeypatch.setattr(Planner, "plan", planned)
    monkeypatch.setattr(pipeline.Deduplicator, "_rollback", rolled_back)
    with pytest.raises(RuntimeError, match=f"the {where} failed"):
        list(Deduplicator().clean(docs, batch_chars=3 * len(docs[0].text), jobs=2))
    assert "rollback" in events
    first = events.index("rollback")
    assert events[first - 1] == "helper" if where == "helper" else events[first - 1] == "helper done"
    assert "helper" not in events[first:]  # nothing indexed after the rollback
