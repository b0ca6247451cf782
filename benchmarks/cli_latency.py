"""How fast the command line answers: `--help`, `stats`, a search in a fresh process (imports
and model load included) and repeated searches that skip them, in `faceatlas shell` and
through a running server (`FACEATLAS_SERVER_URL`).

Run from the repository root, on a fresh clone with only ../shared/faces:

    .venv/bin/python benchmarks/cli_latency.py [--runs 5] [--faces ../shared/faces]

It builds a small atlas from the face_recognition example photos in a temporary folder
(`faceatlas ingest`), then times each way of asking, as a user at a terminal would: wall
time of the whole command, from start to exit (or, in the shell, from writing a probe's
path to reading its answer). The baseline, measured in the same run, is the plain
`faceatlas search PHOTO --atlas A` in a fresh process: each ratio says how many of those
the other way is worth. Medians of `--runs` runs. The server runs on 127.0.0.1 with its
search rate limit raised so that the runs are not held up by it.

Wall time on a shared machine grows with its load, so each row also gives the CPU seconds
spent (user + system: the command's process, and for a search through the server the
server's share too), which the load changes far less; the load average is printed with them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from faceatlas import Atlas, Settings
from faceatlas.accounts import Role, TokenKind

FACEATLAS = Path(sys.executable).with_name("faceatlas")
CASE = ["--case", "BENCH-0001", "--purpose", "missing person"]
EXAMPLES = Path("face_recognition/examples/knn_examples")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


Timing = tuple[float, float]
"""``(wall seconds, CPU seconds)`` of one measurement."""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a running process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _timed(command: list[str], env: dict[str, str] | None = None, server: int = 0) -> Timing:
    """Wall and CPU seconds of ``command`` (plus the CPU the ``server`` process spent)."""
    cpu, served = _children_cpu(), _process_cpu(server) if server else 0.0
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        said = (done.stderr or done.stdout)[-2000:]
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {said}")
    served = _process_cpu(server) - served if server else 0.0
    return elapsed, _children_cpu() - cpu + served


def _repeat(runs: int, measure: Callable[[], Timing]) -> list[Timing]:
    return [measure() for _ in range(runs)]


def _shell_times(atlas: Path, probe: Path, runs: int) -> tuple[Timing, list[Timing]]:
    """From starting `faceatlas shell` to its first answer, then per later answer."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(FACEATLAS), "shell", "--atlas", str(atlas), *CASE, "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    times: list[Timing] = []
    cpu = 0.0
    for _ in range(runs + 1):
        proc.stdin.write(f"{probe}\n")
        proc.stdin.flush()
        answer = json.loads(proc.stdout.readline())
        if "error" in answer:
            raise SystemExit(f"shell search failed: {answer['error']}")
        now, used = time.perf_counter(), _process_cpu(proc.pid)
        times.append((now - started, used - cpu))
        started, cpu = now, used
    proc.stdin.close()
    proc.wait(30)
    return times[0], times[1:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _token(atlas: Path) -> str:
    """An investigator's API token, made in the atlas before the server opens it."""
    with Atlas.open(settings=Settings(atlas_dir=atlas)) as at:
        user, _ = at.accounts.create_user(
            "bench.investigator", Role.INVESTIGATOR, unit="bench", password="bench pass 2026!"
        )
        return at.accounts.issue(user, TokenKind.API, 3600, name="bench").secret


def _serve(atlas: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "FACEATLAS_SEARCH_RATE_PER_MINUTE": "100000"}
    command = [str(FACEATLAS), "serve", "--atlas", str(atlas), "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--log-level", "warning"],
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env=env,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server stopped: {log.read_text()}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the server did not start: {log.read_text()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--faces", type=Path, default=Path("../shared/faces"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    train = args.faces / EXAMPLES / "train"
    probe = (args.faces / EXAMPLES / "test" / "obama1.jpg").resolve()
    if not train.is_dir() or not probe.is_file():
        raise SystemExit(f"the face_recognition example photos are not under {args.faces}")
    runs = args.runs
    load_before = os.getloadavg()[0]
    rows: list[tuple[str, list[Timing]]] = []
    with tempfile.TemporaryDirectory(prefix="faceatlas-cli-latency-") as tmp:
        atlas = Path(tmp) / "atlas"
        _say(f"building the atlas from {train} ...")
        _timed([str(FACEATLAS), "ingest", str(train), "--atlas", str(atlas), "--quiet"])
        search = [str(FACEATLAS), "search", str(probe), "--atlas", str(atlas), *CASE, "--json"]

        _say(f"timing `faceatlas --help` and `faceatlas stats` ({runs} runs each) ...")
        rows.append(("faceatlas --help", _repeat(runs, lambda: _timed([str(FACEATLAS), "--help"]))))
        stats = [str(FACEATLAS), "stats", "--atlas", str(atlas)]
        rows.append(("faceatlas stats", _repeat(runs, lambda: _timed(stats))))

        _say(f"timing `faceatlas search` in a fresh process ({runs} runs) ...")
        rows.append(("search, fresh process (baseline)", _repeat(runs, lambda: _timed(search))))

        _say(f"timing `faceatlas shell`: the first answer, then {runs} more ...")
        first, later = _shell_times(atlas, probe, runs)
        rows.append(("shell: first search (start-up included)", [first]))
        rows.append(("shell: each later search", later))

        _say("starting `faceatlas serve` and timing searches through it ...")
        token = _token(atlas)
        server, url = _serve(atlas, Path(tmp) / "server.log")
        try:
            env = {**os.environ, "FACEATLAS_SERVER_URL": url, "FACEATLAS_API_TOKEN": token}
            # a case of the investigator's own (the local operator's is not theirs to search)
            case = ["--case", "BENCH-0002", "--purpose", "missing person"]
            remote = [str(FACEATLAS), "search", str(probe), *case, "--json"]
            rows.append(("search via server: first", [_timed(remote, env, server.pid)]))
            rows.append(
                (
                    "search via server: each later",
                    _repeat(runs, lambda: _timed(remote, env, server.pid)),
                )
            )
        finally:
            server.terminate()
            server.wait(30)

    baseline = statistics.median(wall for wall, _ in rows[2][1])
    print(f"\nCLI latency, median of {runs} runs; ratio = baseline wall / this wall")
    print(f"{'what':42} {'wall s':>7} {'CPU s':>6} {'ratio':>7}   wall of each run")
    for what, timings in rows:
        wall = statistics.median(w for w, _ in timings)
        cpu = statistics.median(c for _, c in timings)
        spread = " ".join(f"{w:.2f}" for w, _ in timings)
        print(f"{what:42} {wall:7.2f} {cpu:6.2f} {baseline / wall:6.1f}x   {spread}")
    machine = re.sub(r"\s+", " ", os.uname().machine)
    load_after = os.getloadavg()[0]
    print(
        f"\n{os.cpu_count()} CPUs ({machine}); load average {load_before:.1f} before, {load_after:.1f} after"
    )


if __name__ == "__main__":
    main()
