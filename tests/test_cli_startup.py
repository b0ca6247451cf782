"""The command line starts at once: importing it loads no engine, catalog or plotting code,
and the top-level help it lists without loading the commands matches their own help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer

from faceatlas.cli import COMMANDS, full_app

HEAVY = ("faceatlas.atlas", "sqlalchemy", "matplotlib", "onnxruntime")


def test_importing_the_cli_imports_nothing_heavy() -> None:
    code = f"import sys, faceatlas.cli; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == ""


def test_the_listed_commands_are_the_registered_ones_with_their_own_help() -> None:
    group = typer.main.get_group(full_app())
    ctx = group.make_context("faceatlas", [], resilient_parsing=True)
    real = {
        name: group.commands[name].get_short_help_str(limit=1000)
        for name in group.list_commands(ctx)
    }
    assert {name: help_line for name, (_, help_line) in COMMANDS.items()} == real


def test_loading_commands_twice_registers_each_once() -> None:
    """The lazy root and :func:`full_app` may both load a module in one process."""
    from typer.testing import CliRunner

    from faceatlas.cli import app

    for _ in range(2):
        full_app()
        assert CliRunner().invoke(app, ["eval", "--help"]).exit_code == 0
        assert CliRunner().invoke(app, ["identities", "--help"]).exit_code == 0
    for name in ("eval", "identities"):
        group = next(g for g in full_app().registered_groups if g.name == name)
        assert group.typer_instance is not None
        names = [c.name or c.callback.__name__ for c in group.typer_instance.registered_commands]
        assert len(names) == len(set(names)), names


def stats_in_a_process(atlas: Path, heavy: tuple[str, ...]) -> tuple[str, str]:
    """``faceatlas stats --json`` on ``atlas`` in a fresh process: its output, and which of
    the ``heavy`` modules it imported (comma-separated)."""
    code = (
        "import atexit, sys\n"
        f"atexit.register(lambda: sys.stderr.write('LOADED ' + ','.join(m for m in {heavy!r} "
        "if m in sys.modules)))\n"
        "from faceatlas.cli import main\n"
        f"sys.argv = ['faceatlas', 'stats', '--json', '--atlas', {str(atlas)!r}]\n"
        "main()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr.rsplit("LOADED ", 1)[1].strip()


def test_stats_reads_the_gallery_alone(tmp_path: Path) -> None:
    """``faceatlas stats`` opens the catalog and index only: no facade, cases, PDF library,
    ingestion or engine runtime is imported."""
    heavy = ("faceatlas.atlas", "faceatlas.cases", "faceatlas.ingest", "fpdf", "onnxruntime")
    out, loaded = stats_in_a_process(tmp_path, heavy)
    assert '"images": 0' in out
    assert loaded == ""
