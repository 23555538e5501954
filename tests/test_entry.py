"""The package's entry points: ``import dedup`` loads nothing heavy, and the ``dedup`` command
keeps numpy's OpenBLAS from starting threads it would never use (see ``dedup.__main__``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dedup

REPO = Path(__file__).resolve().parent.parent


def _python(code: str, env: dict[str, str] | None = None) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    environment.update(env or {})
    environment["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment,
                          check=True, timeout=120)
    return done.stdout


def test_import_loads_no_engine() -> None:
    out = json.loads(_python(
        "import json, sys, dedup\n"
        "before = sorted(m for m in ('numpy', 'dedup.pipeline', 'rapidfuzz') if m in sys.modules)\n"
        "from dedup import Deduplicator, pipeline\n"
        "print(json.dumps([before, Deduplicator is pipeline.Deduplicator, 'numpy' in sys.modules]))"))
    assert out == [[], True, True]


def test_lazy_names() -> None:
    from dedup import pipeline, settings

    assert dedup.Deduplicator is pipeline.Deduplicator
    assert dedup.Settings is settings.Settings
    assert dir(dedup) == sorted(dedup.__all__)
    for name in dedup.__all__:
        assert getattr(dedup, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        dedup.nothing_here  # noqa: B018


COMMAND = (
    "import os, sys\n"
    "sys.argv = ['dedup', '--version']\n"
    "from dedup.__main__ import main\n"
    "try:\n"
    "    main()\n"
    "except SystemExit:\n"
    "    pass\n"
    "threads = len(os.listdir('/proc/self/task')) if os.path.isdir('/proc/self/task') else 1\n"
    "print(os.environ['OPENBLAS_NUM_THREADS'], 'numpy' in sys.modules, threads)\n"
)


def test_command_starts_no_blas_threads() -> None:
    lines = _python(COMMAND).splitlines()
    assert lines[0] == f"dedup, version {dedup.__version__}"
    assert lines[-1].split() == ["1", "True", "1"]  # numpy loaded, and no thread beside the main one


def _openblas_can_thread() -> bool:
    """Linux, two CPUs for this process, and a numpy built on OpenBLAS (as the wheels are)."""
    if not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2:
        return False
    import numpy

    blas = getattr(numpy, "__config__", None)
    config = getattr(blas, "CONFIG", {}) if blas is not None else {}
    return "openblas" in str(config.get("Build Dependencies", {}).get("blas", {}).get("name", ""))


@pytest.mark.skipif(not _openblas_can_thread(), reason="needs Linux, two CPUs and numpy on OpenBLAS")
def test_command_keeps_the_users_blas_setting() -> None:
    # also shows that the thread count above would see OpenBLAS's threads
    blas, numpy_loaded, threads = _python(COMMAND, {"OPENBLAS_NUM_THREADS": "2"}).splitlines()[-1].split()
    assert (blas, numpy_loaded, int(threads)) == ("2", "True", 2)
