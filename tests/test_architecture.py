"""The layout holds: imports point one way (import-linter contracts in pyproject.toml), modules
stay small, and every number on a model's score scale lives with that model's engine."""

from __future__ import annotations

import subprocess
import sys
import tokenize
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "faceatlas"
PYPROJECT = SRC.parents[1] / "pyproject.toml"
MAX_MODULE_LINES = 400
MAX_FACADE_LINES = 300
DLIB_THRESHOLDS = {0.958, 0.935, 0.95, 0.92}
"""dlib's search, opt-out, identity and same-face thresholds (its model card)."""


def test_imports_follow_the_layers() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint), "--config", str(PYPROJECT), "--no-cache"],
        capture_output=True,
        text=True,
        check=False,
        cwd=SRC.parents[1],
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_modules_stay_small_and_the_facade_thin() -> None:
    sizes = {p.relative_to(SRC): len(p.read_text().splitlines()) for p in SRC.rglob("*.py")}
    too_long = {str(p): n for p, n in sizes.items() if n > MAX_MODULE_LINES}
    assert not too_long
    assert sizes[Path("atlas.py")] < MAX_FACADE_LINES


def _float_literals(path: Path) -> list[tuple[int, float]]:
    """The float literals of a module's code (comments and docstrings are not tokens here)."""
    found = []
    with path.open("rb") as f:
        for tok in tokenize.tokenize(f.readline):
            if tok.type == tokenize.NUMBER and "." in tok.string and "j" not in tok.string:
                found.append((tok.start[0], float(tok.string)))
    return found


def test_no_model_scale_threshold_outside_its_engine() -> None:
    engine_dir = SRC / "engine"
    dlib_card = engine_dir / "dlib_engine.py"
    misplaced = []
    for path in SRC.rglob("*.py"):
        for line, value in _float_literals(path):
            dlib_number = value in DLIB_THRESHOLDS and path != dlib_card
            scale_number = 0.85 <= value < 1.0 and engine_dir not in path.parents
            if dlib_number or scale_number:
                misplaced.append(f"{path.relative_to(SRC)}:{line} {value}")
    assert not misplaced
