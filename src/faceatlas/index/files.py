"""Crash-safe saving of a FAISS index with its JSON sidecar."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["write_index_files"]


def write_index_files(
    faiss: Any, index: Any, index_path: Path, state_path: Path, sidecar: dict[str, Any]
) -> None:
    """Write ``index`` and ``sidecar`` under temporary names, fsync, then rename both.

    A crash leaves the previous complete pair or the new one; a pair that
    disagrees (index renamed, sidecar not) is caught by the count check on load.
    """
    index_path.parent.mkdir(parents=True, exist_ok=True)
    tmp_index = index_path.with_suffix(".faiss.tmp")
    tmp_state = state_path.with_suffix(".json.tmp")
    faiss.write_index(index, str(tmp_index))
    tmp_state.write_text(json.dumps(sidecar))
    with open(tmp_index, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp_index, index_path)
    os.replace(tmp_state, state_path)
