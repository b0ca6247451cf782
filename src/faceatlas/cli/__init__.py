"""The ``faceatlas`` command line. Each module registers its own commands."""

from __future__ import annotations

from faceatlas.cli import cases, core, evaluate, fairness, identities, lab, models, service, web
from faceatlas.cli import privacy as privacy_cli
from faceatlas.cli.common import CliApp

__all__ = ["app", "main"]

app = CliApp(
    name="faceatlas",
    help="Self-hosted face search: results are investigative leads, never identifications.",
    pretty_exceptions_enable=False,
    add_completion=False,
)
core.register(app)
evaluate.register(app)
identities.register(app)
models.register(app)
web.register(app)
service.register(app)
lab.register(app)
fairness.register(app)
privacy_cli.register(app)
cases.register(app)


def main() -> None:
    app()
