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
"""

from __future__ import annotations

import argparse
import json
import os
import re
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


def _timed(command: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        said = (done.stderr or done.stdout)[-2000:]
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {said}")
    return elapsed


def _median(runs: int, measure: Callable[[], float]) -> tuple[float, list[float]]:
    times = [measure() for _ in range(runs)]
    return statistics.median(times), times


def _shell_times(atlas: Path, probe: Path, runs: int) -> tuple[float, list[float]]:
    """Seconds from starting `faceatlas shell` to its first answer, then per later answer."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(FACEATLAS), "shell", "--atlas", str(atlas), *CASE, "--json"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    times = []
    for _ in range(runs + 1):
        proc.stdin.write(f"{probe}\n")
        proc.stdin.flush()
        answer = json.loads(proc.stdout.readline())
        if "error" in answer:
            raise SystemExit(f"shell search failed: {answer['error']}")
        now = time.perf_counter()
        times.append(now - started)
        started = now
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
    rows: list[tuple[str, float, list[float]]] = []
    with tempfile.TemporaryDirectory(prefix="faceatlas-cli-latency-") as tmp:
        atlas = Path(tmp) / "atlas"
        _say(f"building the atlas from {train} ...")
        _timed([str(FACEATLAS), "ingest", str(train), "--atlas", str(atlas), "--quiet"])
        search = [str(FACEATLAS), "search", str(probe), "--atlas", str(atlas), *CASE, "--json"]

        _say(f"timing `faceatlas --help` and `faceatlas stats` ({runs} runs each) ...")
        rows.append(
            ("faceatlas --help", *_median(runs, lambda: _timed([str(FACEATLAS), "--help"])))
        )
        stats = [str(FACEATLAS), "stats", "--atlas", str(atlas)]
        rows.append(("faceatlas stats", *_median(runs, lambda: _timed(stats))))

        _say(f"timing `faceatlas search` in a fresh process ({runs} runs) ...")
        baseline, base_times = _median(runs, lambda: _timed(search))
        rows.append(("search, fresh process (baseline)", baseline, base_times))

        _say(f"timing `faceatlas shell`: the first answer, then {runs} more ...")
        first, later = _shell_times(atlas, probe, runs)
        rows.append(("shell: first search (start-up included)", first, [first]))
        rows.append(("shell: each later search", statistics.median(later), later))

        _say("starting `faceatlas serve` and timing searches through it ...")
        token = _token(atlas)
        server, url = _serve(atlas, Path(tmp) / "server.log")
        try:
            env = {**os.environ, "FACEATLAS_SERVER_URL": url, "FACEATLAS_API_TOKEN": token}
            # a case of the investigator's own (the local operator's is not theirs to search)
            case = ["--case", "BENCH-0002", "--purpose", "missing person"]
            remote = [str(FACEATLAS), "search", str(probe), *case, "--json"]
            first_remote = _timed(remote, env)
            rows.append(("search via server: first", first_remote, [first_remote]))
            rows.append(
                ("search via server: each later", *_median(runs, lambda: _timed(remote, env)))
            )
        finally:
            server.terminate()
            server.wait(30)

    print(f"\nCLI latency, median of {runs} runs (wall seconds); ratio = baseline / this")
    print(f"{'what':45} {'seconds':>8} {'ratio':>7}   runs")
    for what, seconds, times in rows:
        ratio = baseline / seconds if seconds > 0 else float("nan")
        spread = " ".join(f"{t:.2f}" for t in times)
        print(f"{what:45} {seconds:8.2f} {ratio:6.1f}x   {spread}")
    machine = re.sub(r"\s+", " ", os.uname().machine)
    print(f"\n{os.cpu_count()} CPUs ({machine}); load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
