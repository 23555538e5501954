"""Killed runs and resource limits, on the real command in a subprocess.

- SIGKILL at random points of runs over a few hundred files (``--in-place`` and ``-o``): every
  file is afterwards byte-identical to its original or to its fully cleaned version, leftover
  temporary files are never read as input, and the next run finishes the job.
- Open files: a run over thousands of files under ``RLIMIT_NOFILE`` 64 (one leaked descriptor per
  file would fail it), and the descriptor count of the reading code in this process.
- A single line of tens of megabytes: cleaned in pieces, within a memory bound per input byte.

No timings are asserted; ``benchmarks/README.md`` has the measured figures (100 MB line, 100,000
files).
"""

from __future__ import annotations

import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from conftest import REPO

from dedup import Deduplicator, Document, Settings
from dedup.readers import discover, read_inputs
from dedup.writers import is_temp_name

LETTERS = "abcdefghijklmnopqrstuvwxyzéèàü’"  # one character above U+00FF, as in most real text
_VOCABULARY = ["".join(random.Random(i).choices(LETTERS, k=2 + i % 8)) for i in range(60_000)]


def prose(rnd: random.Random, sentences: int) -> list[str]:
    """Made-up sentences from a large vocabulary of made-up words (unrelated text shares little)."""
    return [" ".join(rnd.choices(_VOCABULARY, k=rnd.randint(6, 16))).capitalize() + "." for _ in range(sentences)]


def corpus(n: int, seed: int = 1) -> dict[str, str]:
    """``n`` small files named by relative path, each with a repeated paragraph."""
    rnd = random.Random(seed)
    files: dict[str, str] = {}
    for i in range(n):
        a, b, c = (" ".join(prose(rnd, 2)) for _ in range(3))  # long enough to stand alone
        files[f"{i % 7}/{i:05d}.txt"] = f"{a}\n{b}\n{a}\n{c}\n" if i % 5 else f"{a}\n{b}\n"
    return files


def materialise(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))


def dedup_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "dedup", *args]


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


def expected_clean(files: dict[str, str]) -> dict[str, bytes]:
    result = Deduplicator(Settings(scope="document")).run([Document(rel, text) for rel, text in files.items()])
    return {d.document.id: d.cleaned.encode("utf-8") for d in result.documents}


def wait_for_writes(proc: subprocess.Popen[bytes], started: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline and not started():
        time.sleep(0.001)


def written_at_least(out: Path, k: int) -> bool:
    return sum(len(os.listdir(d)) for d in out.glob("*")) >= k


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["--in-place", "-o"])
def test_sigkill_leaves_every_file_original_or_fully_cleaned(tmp_path: Path, mode: str) -> None:
    files = corpus(300)
    expected = expected_clean(files)
    original = {rel: text.encode("utf-8") for rel, text in files.items()}
    assert sum(expected[r] != original[r] for r in files) == 240
    src, out = tmp_path / "in", tmp_path / "out"
    args = [str(src), "--scope", "document", "-q", *(["--in-place"] if mode == "--in-place" else ["-o", str(out)])]
    rnd = random.Random(20)
    first = min(rel for rel in files if expected[rel] != original[rel])  # the first file written
    for round_ in range(6):
        materialise(src, files)
        shutil.rmtree(out, ignore_errors=True)
        proc = subprocess.Popen(dedup_cmd("clean", *args), env=child_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if round_ % 3:  # kill while files are being written (in place, each is flushed to disk first)
            if mode == "--in-place":
                wait_for_writes(proc, lambda: (src / first).read_bytes() != original[first])
                time.sleep(rnd.uniform(0, 0.3))
            else:  # writes are not flushed here, so fast: kill after a random number of them
                wait_for_writes(proc, partial(written_at_least, out, rnd.randint(1, 250)))
        else:  # kill at any moment of the run
            time.sleep(rnd.uniform(0.2, 1.5))
        workers = _children(proc.pid)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        _assert_gone(workers)  # --jobs workers end with the main process, even when it is killed
        for rel in files:
            if mode == "--in-place":
                assert (src / rel).read_bytes() in (original[rel], expected[rel]), rel
            elif (out / rel).exists():
                assert (out / rel).read_bytes() == expected[rel], rel
        # Whatever the kill left behind: only inputs and dot-prefixed temporary files, and
        # discovery never reads a temporary file, whatever the pattern.
        found, problems = discover([str(src)], "*")
        assert problems == [] and sorted(i.relpath for i in found) == sorted(files)
        leftovers = [p for p in (src, out) if p.exists() for p in p.rglob("*") if p.is_file()]
        assert all(p.relative_to(tmp_path).as_posix().split("/", 1)[1] in files or is_temp_name(p.name)
                   for p in leftovers)
    # The next run finishes the job (temporary files are ignored, and mentioned).
    done = subprocess.run(dedup_cmd("clean", *args, "--glob", "*"), env=child_env(), capture_output=True)
    assert done.returncode == 0, done.stderr
    final = src if mode == "--in-place" else out
    assert {rel: (final / rel).read_bytes() for rel in files} == expected


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _assert_gone(pids: list[int], within: float = 10.0) -> None:
    def running(pid: int) -> bool:  # a zombie has ended (its parent is gone; init reaps it)
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[-1][:1] != "Z"
        except OSError:
            return False

    deadline = time.monotonic() + within
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if running(p)]
        time.sleep(0.05)
    assert alive == [], f"worker processes outlived the killed run: {alive}"


def _limit_open_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))


@pytest.mark.parametrize("n", [1_000, pytest.param(20_000, marks=pytest.mark.slow)])
def test_open_files_stay_bounded(tmp_path: Path, n: int) -> None:
    files = corpus(n, seed=3)
    src, out = tmp_path / "in", tmp_path / "out"
    materialise(src, files)
    proc = subprocess.run(dedup_cmd("clean", str(src), "-o", str(out), "--report", str(tmp_path / "r.jsonl"), "-q"),
                          env=child_env(), capture_output=True, preexec_fn=_limit_open_files)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert sum(1 for p in out.rglob("*.txt")) == n
    assert len((tmp_path / "r.jsonl").read_bytes().splitlines()) == n


def test_reading_leaves_no_descriptor_open(tmp_path: Path) -> None:
    files = corpus(500, seed=4)
    materialise(tmp_path, files)
    (tmp_path / "big.txt").write_bytes(b"x" * 5000)
    (tmp_path / "bad.txt").write_bytes(b"\xff\xfe\x00")
    fd_dir = Path("/proc/self/fd")
    if not fd_dir.exists():
        pytest.skip("needs /proc")
    before = len(os.listdir(fd_dir))
    found, problems = discover([str(tmp_path)])
    loaded, more = read_inputs(found, max_size=4096)
    assert len(loaded) == 500 and len(problems + more) == 2
    assert len(os.listdir(fd_dir)) == before


@pytest.mark.slow
def test_a_20mb_single_line_is_cleaned_in_bounded_memory(tmp_path: Path) -> None:
    rnd = random.Random(5)
    sentences = prose(rnd, 300_000)
    head = " ".join(sentences[:1500])  # said again at the end: the body captured twice, on one line
    line = " ".join(sentences) + " " + head
    assert len(line) > 20_000_000
    big = tmp_path / "big.txt"
    big.write_bytes(("Title\n" + line + "\n").encode("utf-8"))
    out = tmp_path / "out"
    peak_file = tmp_path / "peak"
    # The child reports its own peak RSS: the rusage of a child of this (large) test process would
    # include this process's memory too (Linux keeps the highest RSS across fork and exec).
    wrapper = ("import runpy, sys\nout = sys.argv.pop(1)\nsys.argv[0] = 'dedup'\ntry:\n"
               "    runpy.run_module('dedup', run_name='__main__', alter_sys=True)\nfinally:\n"
               "    peak = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
               "    open(out, 'w').write(peak)\n")
    proc = subprocess.run([sys.executable, "-c", wrapper, str(peak_file), "clean", str(big), "-o", str(out), "-q"],
                          env=child_env(), capture_output=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    cleaned = (out / "big.txt").read_text(encoding="utf-8")
    assert cleaned.startswith("Title\n" + " ".join(sentences[:1500]))
    removed = len(line) + 7 - len(cleaned)
    assert 0.7 * len(head) < removed <= len(head) + 1  # (most of) the copy went, nothing else
    peak = int(peak_file.read_text()) * 1024
    assert peak < 16 * big.stat().st_size  # no per-character Python objects (those cost 50+ bytes each)
