"""The engine gate: searches side by side on a thread-safe engine, index writes alone."""

from __future__ import annotations

import threading
import time

import pytest

from faceatlas.engine.dlib_engine import DlibEngine
from faceatlas.engine.sface_engine import SFaceEngine
from faceatlas.services.gate import EngineGate

WAIT = 5.0


def _in_threads(*targets: object) -> list[threading.Thread]:
    threads = [threading.Thread(target=t, daemon=True) for t in targets]  # type: ignore[arg-type]
    for th in threads:
        th.start()
    return threads


def test_shared_entries_overlap_on_a_concurrent_gate() -> None:
    gate = EngineGate(concurrent=True)
    both_inside = threading.Barrier(2, timeout=WAIT)
    done: list[bool] = []

    def search() -> None:
        with gate.shared():
            both_inside.wait()  # breaks unless the other search is inside too
            done.append(True)

    for th in _in_threads(search, search):
        th.join(WAIT)
    assert done == [True, True]


def test_shared_entries_take_turns_when_the_engine_is_not_thread_safe() -> None:
    gate = EngineGate(concurrent=False)
    inside = 0
    most = 0
    lock = threading.Lock()

    def search() -> None:
        nonlocal inside, most
        with gate.shared():
            with lock:
                inside += 1
                most = max(most, inside)
            time.sleep(0.02)
            with lock:
                inside -= 1

    for th in _in_threads(*[search] * 4):
        th.join(WAIT)
    assert most == 1


def test_a_writer_runs_alone_and_goes_before_readers_that_come_after_it() -> None:
    gate = EngineGate(concurrent=True)
    events: list[str] = []
    reader_in = threading.Event()
    release_reader = threading.Event()

    def first_reader() -> None:
        with gate.shared():
            reader_in.set()
            release_reader.wait(WAIT)
            events.append("reader 1 out")

    def writer() -> None:
        with gate.exclusive():
            events.append("writer in")

    def late_reader() -> None:
        with gate.shared():
            events.append("reader 2 in")

    (r1,) = _in_threads(first_reader)
    assert reader_in.wait(WAIT)
    (w,) = _in_threads(writer)
    deadline = time.monotonic() + WAIT
    while gate._writers_waiting == 0 and time.monotonic() < deadline:
        time.sleep(0.001)
    (r2,) = _in_threads(late_reader)
    time.sleep(0.05)
    assert events == []  # the writer waits for reader 1; reader 2 waits behind the writer
    release_reader.set()
    for th in (r1, w, r2):
        th.join(WAIT)
    assert events == ["reader 1 out", "writer in", "reader 2 in"]


def test_an_exception_inside_leaves_the_gate_open() -> None:
    gate = EngineGate(concurrent=True)
    with pytest.raises(RuntimeError), gate.exclusive():
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError), gate.shared():
        raise RuntimeError("boom")
    with gate.exclusive():
        pass


def test_engines_say_whether_they_may_be_shared() -> None:
    assert SFaceEngine().thread_safe is True
    assert DlibEngine().thread_safe is False
