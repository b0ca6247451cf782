"""Every benchmark script has small arguments in ``benchmarks/run_all.py``, and they parse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from benchmarks import run_all


def test_every_benchmark_has_smoke_arguments() -> None:
    on_disk = {p.name for p in Path(run_all.HERE).glob("*.py")} - run_all.NOT_SCRIPTS
    assert set(run_all.scripts()) == on_disk
    assert set(run_all.SMOKE) == on_disk


def test_unknown_script_is_refused(tmp_path: Path) -> None:
    script = str(run_all.HERE / "run_all.py")
    done = subprocess.run(
        [sys.executable, script, "--cache-dir", str(tmp_path), "--only", "no_such_benchmark"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "unknown scripts: ['no_such_benchmark.py']" in done.stderr
