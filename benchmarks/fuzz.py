#!/usr/bin/env python3
"""Long fuzzing runs of the hostile-input properties (tests/test_hostile.py), with a count.

    python benchmarks/fuzz.py hypothesis --examples 10000      # the adversarial document strategies
    python benchmarks/fuzz.py atheris --seconds 600            # coverage-guided, from raw bytes

``hypothesis`` runs the three properties of tests/test_hostile.py (adversarial documents under the
default settings with the idempotency check, under other settings, and any bytes through the
decoder) with ``--examples`` examples each, and prints how many inputs each property saw, how
long it took and the first failure (shrunk) if there is one.

``atheris`` (``pip install atheris``) feeds libFuzzer-mutated bytes to one harness: the bytes are
decoded with a codec the input picks (and must round-trip), then cut into lines, some lines
repeated, a few documents built and cleaned; every result is checked like the tests do
(exact spans, output = input minus the edit spans, restore, report encodable, idempotent apart
from the README's documented limits). libFuzzer prints its own statistics, ending with "Done N runs
in S second(s)". A failing input is written to ``--artifacts`` (default: a temporary folder), never
into the working tree.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from machine import machine

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]




def _counting(inner: Callable[..., None], calls: list[int]) -> Callable[[tuple[object, ...]], None]:
    def counted(args: tuple[object, ...]) -> None:
        calls[0] += 1
        inner(*args)

    return counted


def run_hypothesis(examples: int, seed: int | None, only: list[int]) -> int:
    import test_hostile as th
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st

    failures = 0
    props = [
        ("hostile documents, default settings, idempotency", th.test_hostile_documents, (th.corpus,)),
        ("hostile documents, other settings", th.test_hostile_documents_under_other_settings,
         (th.corpus, st.sampled_from(["document", "corpus"]), st.sampled_from(["first", "longest"]))),
        ("any bytes through the decoder", th.test_any_bytes_decode_to_a_round_trip_or_a_problem,
         (st.binary(max_size=300),
          st.sampled_from(["utf-8", "auto", "cp1252", "utf-16-le", "latin-1", "shift_jis"]))),
    ]
    print(f"machine: {machine()}; hypothesis, {examples:,} examples per property")
    print("| property | inputs tried | seconds | result |")
    print("|---|---|---|---|")
    for number, (name, test, strategies) in enumerate(props, 1):
        if only and number not in only:
            continue
        calls = [0]
        counted = _counting(test.hypothesis.inner_test, calls)  # type: ignore[attr-defined]
        wrapped = settings(max_examples=examples, deadline=None, database=None,
                           suppress_health_check=list(HealthCheck))(given(st.tuples(*strategies))(counted))
        if seed is not None:
            wrapped = hseed(seed)(wrapped)
        start = time.perf_counter()
        try:
            wrapped()
            result = "passed"
        except Exception as exc:
            failures += 1
            result = f"FAILED: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            traceback.print_exc(limit=3, file=sys.stderr)
        print(f"| {name} | {calls[0]:,} | {time.perf_counter() - start:.0f} | {result} |", flush=True)
    return failures


def run_atheris(seconds: int, artifacts: str, extra: list[str]) -> int:
    import atheris

    with atheris.instrument_imports(include=["dedup"]):  # coverage of dedup itself, not numpy or scipy
        from dedup import Deduplicator, Document, Settings
        from dedup.readers import Decoded, decode
    from test_hostile import check_idempotent, check_result

    codecs = ["utf-8", "auto", "cp1252", "utf-16-le", "latin-1", "shift_jis"]
    def one_input(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        encoding = fdp.PickValueInList(codecs)
        raw = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 2048))
        got = decode(raw, "f", encoding)
        if isinstance(got, Decoded):
            assert got.text.encode(got.encoding) == raw
            base = got.text
        else:
            base = raw.decode("utf-8", "surrogateescape")  # lone surrogates: the library must cope
        base += fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, 512))
        lines = base.split("\n")
        docs: dict[str, str] = {}
        for d in range(fdp.ConsumeIntInRange(1, 3)):
            picked = [lines[fdp.ConsumeIntInRange(0, len(lines) - 1)] for _ in range(fdp.ConsumeIntInRange(0, 12))]
            sep = fdp.PickValueInList(["\n", "\r\n", "\n\n", "\r"])
            docs[f"d{d}.txt"] = sep.join(picked) + fdp.PickValueInList(["", "\n"])
        scope = fdp.PickValueInList(["corpus", "document"])
        settings = Settings(scope=scope, min_chars=fdp.ConsumeIntInRange(0, 60))
        result = Deduplicator(settings).run([Document(k, v) for k, v in docs.items()])
        check_result(result)
        again = Deduplicator(settings).run([Document(d.document.id, d.cleaned) for d in result.documents])
        check_idempotent(result, again)

    print(f"machine: {machine()}; atheris, {seconds} s", flush=True)
    argv = [sys.argv[0], f"-max_total_time={seconds}", "-rss_limit_mb=4096", f"-artifact_prefix={artifacts}/", *extra]
    atheris.Setup(argv, one_input)
    atheris.Fuzz()
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="engine", required=True)
    p = sub.add_parser("hypothesis")
    p.add_argument("--examples", type=int, default=10_000)
    p.add_argument("--seed", type=int)
    p.add_argument("--property", type=int, action="append", default=[], choices=[1, 2, 3],
                   help="run only this property (1 documents + idempotency, 2 other settings, 3 decoder)")
    p = sub.add_parser("atheris")
    p.add_argument("--seconds", type=int, default=600)
    p.add_argument("--artifacts", default=None, help="folder for failing inputs (default: a new temporary one)")
    p.add_argument("libfuzzer", nargs="*", help="extra libFuzzer flags, e.g. -seed=1 or a corpus folder")
    args = parser.parse_args()
    if args.engine == "hypothesis":
        sys.exit(1 if run_hypothesis(args.examples, args.seed, args.property) else 0)
    artifacts = args.artifacts or tempfile.mkdtemp(prefix="dedup-fuzz-")
    print(f"failing inputs, if any, go to {artifacts}/", flush=True)
    sys.exit(run_atheris(args.seconds, artifacts, args.libfuzzer))


if __name__ == "__main__":
    main()
