"""Smoke run of every benchmark on small inputs: does each one run on a fresh clone?

Runs each script in ``benchmarks/`` with small arguments, one after the other, against the
embedding cache given (start from an empty folder to check that every script builds what it
needs from ``../shared/faces`` alone), and prints one line per script: ok or failed, and its
seconds. Each script's output goes to ``<logs>/<script>.log``; the last lines of a failed one are
printed. The figures of a smoke run mean nothing: the sizes are far too small.

    .venv/bin/python benchmarks/run_all.py --cache-dir /tmp/bench-cache [--only scale,fusion]

The scripts run with this checkout's ``src`` first on ``PYTHONPATH``, so a virtual environment
installed from another checkout measures this one. ``FACEATLAS_CACHE_DIR`` is set to
``--cache-dir`` for every script, so none reads the default cache (``~/.cache/faceatlas``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "benchmarks"
NOT_SCRIPTS = {
    "__init__.py",
    "ingest_agreement.py",
    "lfw_model.py",
    "load_optout_form.py",
    "run_all.py",
}
"""Files of ``benchmarks/`` that are not benchmarks (a package marker, a library, this file)."""

SMOKE: dict[str, list[str]] = {
    "cli_latency.py": ["--runs 1"],
    "core_benchmark.py": ["--photos 24 --probes 6 --engines sface --rounds 1"],
    "detect_second_looks.py": ["--repeat 1 --step 20"],
    "detectors.py": ["--skip CNN"],
    "embedding_check.py": ["--pairs 20"],
    "engines.py": ["--photos 24 --chips 8 --engines sface,dlib-bin --lfw-pairs 40"],
    "fair_search.py": ["--photos 200 --probes 20"],
    "fairness_cv.py": ["--salts 1 --sample 400 --variants raw,regions=4;target_fmr=0.001"],
    "fusion.py": ["--sample 60"],
    "identities_lfw.py": ["--people test --draws 1"],
    "identities_select.py": ["--limit 4"],
    "ingest_profile.py": ["--photos 16 --repeats 1"],
    "ingest_web.py": ["--images 30 --workers 1"],
    "lfw_baseline.py": ["--limit 60"],
    "load_api.py": [
        "build --atlas {tmp}/atlas --faces 400 --clients 2",
        "run --atlas {tmp}/atlas --clients 2 --seconds 4 --baseline-seconds 2 --probes 20",
    ],
    "milvus_scale.py": [
        "--faces 20000 --workdir {tmp}/milvus --nlist 64 --nprobe 8 --recall-queries 50 --single 20"
    ],
    "phash_lfw.py": ["--limit 300"],
    "precision_levers.py": ["--faces 20 --repeats 5"],
    "privacy_optout.py": ["--out {tmp}/optout"],
    "probe_quality.py": ["--probes 20"],
    "same_face.py": ["--people 10"],
    "scale.py": [
        "--faces 20000 --engine sface --workdir {tmp}/scale --codes SQ8 --nprobe 8 --single 20"
        " --single-exact 10 --milvus 5000 --out {tmp}/scale.json"
    ],
    "scale_report.py": ["{tmp}/scale.json"],
    "search_modes.py": ["--people 12 --entries 6 --repeat 1"],
    "threshold_transfer.py": ["--source-cache {cache} --target-cache {cache} --pairs 60 0.93"],
    "video_ingest.py": ["--clips 1 --people 2 --seconds 2 --fps 5 --repeats 1"],
}
"""Each script's small arguments, one string per command it runs (``{tmp}``: a scratch folder
shared by the run, ``{cache}``: the cache folder). Order matters where one uses another's output
(``scale_report.py`` reads ``scale.py``'s)."""


def scripts() -> list[str]:
    """Every benchmark script, in the order they run."""
    return [p.name for p in sorted(HERE.glob("*.py")) if p.name not in NOT_SCRIPTS]


def run_one(name: str, cache: Path, tmp: Path, logs: Path, timeout_s: float) -> tuple[bool, float]:
    """Run one script's commands; (all succeeded, seconds)."""
    env = {
        **os.environ,
        "FACEATLAS_CACHE_DIR": str(cache),
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "src"), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
        "PYTHONUNBUFFERED": "1",
    }
    started = time.perf_counter()
    with (logs / f"{Path(name).stem}.log").open("w") as log:
        for command in SMOKE[name]:
            argv = [a.format(tmp=tmp, cache=cache) for a in command.split()]
            log.write(f"$ {name} {' '.join(argv)}\n")
            log.flush()
            try:
                done = subprocess.run(
                    [sys.executable, str(HERE / name), *argv],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=timeout_s,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                log.write(f"timed out after {timeout_s:.0f} s\n")
                return False, time.perf_counter() - started
            if done.returncode != 0:
                return False, time.perf_counter() - started
    return True, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache-dir", type=Path, required=True, help="embedding cache to use")
    parser.add_argument("--logs", type=Path, help="one log per script (default: a temp folder)")
    parser.add_argument("--only", help="comma-separated script names (without .py)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per script")
    args = parser.parse_args()
    missing = sorted(set(scripts()) ^ set(SMOKE))
    if missing:
        parser.error(f"scripts without smoke arguments, or arguments without a script: {missing}")
    chosen = scripts()
    if args.only:
        wanted = {f"{n.strip().removesuffix('.py')}.py" for n in args.only.split(",")}
        if unknown := wanted - set(chosen):
            parser.error(f"unknown scripts: {sorted(unknown)}")
        chosen = [n for n in chosen if n in wanted]
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    cache = args.cache_dir.resolve()
    logs = (args.logs or Path(tempfile.mkdtemp(prefix="faceatlas-bench-logs-"))).resolve()
    logs.mkdir(parents=True, exist_ok=True)
    print(f"cache {cache}; logs in {logs}", flush=True)
    failed = 0
    total = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="faceatlas-bench-") as scratch:
        for name in chosen:
            print(f"{name:24s}", end=" ", flush=True)
            ok, seconds = run_one(name, cache, Path(scratch), logs, args.timeout)
            failed += not ok
            print(f"{'ok' if ok else 'FAILED':6s} {seconds:7.1f} s", flush=True)
            if not ok:
                tail = (logs / f"{Path(name).stem}.log").read_text().splitlines()[-15:]
                print("    " + "\n    ".join(tail), flush=True)
    print(
        f"{len(chosen) - failed} ok, {failed} failed, {time.perf_counter() - total:.0f} s in all",
        flush=True,
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
