"""The ``dedup`` command (``python -m dedup`` too).

Before anything imports numpy, the command asks OpenBLAS for no threads of its own (unless the
environment says otherwise): dedup makes no BLAS call, but numpy's OpenBLAS starts a thread
for every other core when it is imported, and each spins for about 0.1 s of CPU. Run on many
files at once (``xargs -P``), the processes lost a fifth of their throughput to that on two
cores; more cores, more threads per process.
"""

from __future__ import annotations

import os


def main() -> None:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from dedup.cli import main as command

    command()


if __name__ == "__main__":
    main()
