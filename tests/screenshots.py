"""Screenshots for the docs, taken by the browser tests when ``FACEATLAS_SCREENSHOTS`` names a
folder (``FACEATLAS_SCREENSHOTS=docs/img pytest tests/test_web_cases_browser.py``); without it
nothing is written."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["SCREENSHOTS_ENV", "screenshot"]

SCREENSHOTS_ENV = "FACEATLAS_SCREENSHOTS"


def screenshot(page: Any, name: str) -> Path | None:
    """Save the whole of ``page`` (a Playwright page) as ``<folder>/<name>.png``."""
    folder = os.environ.get(SCREENSHOTS_ENV)
    if not folder:
        return None
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path
