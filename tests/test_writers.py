import os
import stat
from functools import partial
from pathlib import Path

import pytest

from dedup.writers import BackgroundWrites, UnsafePathError, is_temp_name, safe_join, write_atomic, write_text_atomic


def test_write_creates_parents_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.txt"
    write_text_atomic(target, "héllo\n")
    assert target.read_bytes() == "héllo\n".encode()
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_replacing_keeps_the_file_mode(tmp_path: Path) -> None:
    target = tmp_path / "x.txt"
    target.write_text("old", encoding="utf-8")
    os.chmod(target, 0o640)
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_a_failed_write_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "x.txt"
    target.write_text("old", encoding="utf-8")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_atomic(target, b"new")
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


@pytest.mark.parametrize("relpath", [
    "../x.txt", "a/../../x.txt", "a/..", "..", "/etc/passwd", "//server/share/x", "C:\\x.txt", "C:x.txt",
    "\\\\server\\share\\x", "", ".", "./", "a\x00b",
])
def test_safe_join_refuses_paths_that_leave_the_folder(tmp_path: Path, relpath: str) -> None:
    with pytest.raises(UnsafePathError):
        safe_join(tmp_path, relpath)


@pytest.mark.parametrize(("relpath", "expected"), [
    ("a.txt", "a.txt"), ("sub/b.txt", "sub/b.txt"), ("./sub//b.txt", "sub/b.txt"), ("..a/b..txt", "..a/b..txt"),
    ("a\\..\\b.txt", "a\\..\\b.txt"),  # one file name on POSIX: backslash is not a separator there
])
def test_safe_join_keeps_ordinary_paths(tmp_path: Path, relpath: str, expected: str) -> None:
    assert safe_join(tmp_path, relpath) == tmp_path / expected


def test_safe_join_does_not_follow_a_link_out_of_the_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "escape").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafePathError, match="resolves outside"):
        safe_join(out, "escape/x.txt")


def test_long_names_get_a_temporary_file_that_fits(tmp_path: Path) -> None:
    target = tmp_path / ("é" * 120 + ".txt")  # 244 bytes: the name fits, name + temp suffix would not
    write_atomic(target, b"ok")
    assert target.read_bytes() == b"ok"
    assert [p.name for p in tmp_path.iterdir()] == [target.name]


def test_temporary_names_are_recognised() -> None:
    assert is_temp_name(".a.txt.k2j4h5.dedup-tmp") and not is_temp_name("a.txt") and not is_temp_name(".a.txt")


def test_background_writes_give_outcomes_in_order_from_another_thread(tmp_path: Path) -> None:
    import threading

    main = threading.get_ident()
    threads: set[int] = set()

    def write(i: int) -> int:
        threads.add(threading.get_ident())
        write_atomic(tmp_path / f"{i}.txt", f"file {i}\n", durable=False)
        return i * 10

    done: list[tuple[int, int]] = []
    with BackgroundWrites[int](limit=3) as writes:
        for i in range(20):
            done += writes.submit(i, partial(write, i))
            assert len(writes._pending) <= 3  # the texts in flight stay bounded
        done += writes.finish()
    assert done == [(i, i * 10) for i in range(20)]
    assert len(threads) == 1 and main not in threads
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{i}.txt" for i in range(20))


def test_background_writes_wait_when_the_texts_in_flight_pass_the_size_budget() -> None:
    import threading

    release = threading.Event()

    def write(i: int) -> int:
        release.wait(10)
        return i

    writes = BackgroundWrites[int](limit=100, size_limit=250)
    assert writes.submit(0, partial(write, 0), size=100) == []
    assert writes.submit(1, partial(write, 1), size=100) == []  # 200 in flight: within the budget
    got: list[tuple[int, int]] = []
    third = threading.Thread(target=lambda: got.extend(writes.submit(2, partial(write, 2), size=150)))
    third.start()  # 350 in flight: waits for the oldest write, held by the event
    third.join(0.2)
    assert third.is_alive() and got == []
    release.set()
    third.join(10)
    assert got[:1] == [(0, 0)] and writes._size <= 250  # the oldest, then any others already done
    assert got + writes.finish() == [(0, 0), (1, 1), (2, 2)]
    assert writes._size == 0
    writes.close()


def test_a_failed_background_write_raises_in_the_main_thread(tmp_path: Path) -> None:
    def fail() -> None:
        raise UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")

    with BackgroundWrites[None]() as writes:
        writes.submit(0, lambda: None)
        writes.submit(1, fail)
        with pytest.raises(UnicodeEncodeError):
            writes.finish()


def test_closing_drops_the_writes_not_started() -> None:
    import threading

    started, release = threading.Event(), threading.Event()
    ran: list[int] = []

    def write(i: int) -> None:
        if i == 0:
            started.set()
            release.wait(10)
        ran.append(i)

    writes = BackgroundWrites[None](limit=100)
    for i in range(5):
        assert writes.submit(i, partial(write, i)) == []  # the first write holds the thread
    assert started.wait(10)
    closing = threading.Thread(target=writes.close)
    closing.start()  # cancels 1-4 at once, then waits for the write under way
    closing.join(0.2)
    assert closing.is_alive()
    release.set()
    closing.join(10)
    assert ran == [0]
