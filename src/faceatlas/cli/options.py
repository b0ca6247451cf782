"""Options that several commands share with their own help text: one definition of the flag
and its bounds, the help given where it is used."""

from __future__ import annotations

from typing import Any

import typer

from faceatlas.choices import MAX_TOP_K  # an option's bound: Typer needs it at import

__all__ = ["threshold_option", "top_k_option"]


def top_k_option(help_text: str | None = None) -> Any:
    """``--top-k``/``-k``: how many results a search returns, 1 to :data:`MAX_TOP_K`."""
    return typer.Option("--top-k", "-k", min=1, max=MAX_TOP_K, help=help_text)


def threshold_option(help_text: str | None = None) -> Any:
    """``--threshold``: the lowest similarity a result may have, a cosine in ``[-1, 1]``."""
    return typer.Option("--threshold", min=-1.0, max=1.0, help=help_text)
