"""The search threshold in force, and the shipped fair scorer's threshold read without NumPy.

The threshold a search starts from is the first of: the configured one, the atlas's
calibration, the shipped fair scorer's, the model card's own (:func:`threshold_in_force`).
``faceatlas stats`` shows it without loading the scorer's arrays: the scorer's threshold is in
its metadata (:func:`shipped_threshold`), a JSON document stored in the ``.npz`` file as a
``uint8`` array, which the standard library reads straight out of the zip.
"""

from __future__ import annotations

import ast
import json
import struct
import zipfile
from collections.abc import Callable
from importlib import resources
from importlib.abc import Traversable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faceatlas.engine.card import ModelCard

__all__ = [
    "DATA_DIR",
    "DATA_PACKAGE",
    "shipped_name",
    "shipped_resource",
    "shipped_threshold",
    "threshold_in_force",
]

DATA_PACKAGE = "faceatlas.search"
DATA_DIR = "data"
NPY_MAGIC = b"\x93NUMPY"


def shipped_name(model_id: str) -> str:
    """The file name of the fair scorer fitted for ``model_id`` (in :data:`DATA_DIR`)."""
    return f"fairness-{model_id}.npz"


def shipped_resource(model_id: str) -> Traversable:
    """Where the package keeps the fair scorer fitted for ``model_id`` (it may not exist)."""
    return resources.files(DATA_PACKAGE).joinpath(f"{DATA_DIR}/{shipped_name(model_id)}")


def threshold_in_force(
    settings_value: float | None,
    calibrated: float | None,
    fair_threshold: float | None,
    card: Callable[[], ModelCard],
) -> tuple[float, str]:
    """The first of: the configured threshold, the atlas's calibration, the fair scorer's
    (``None``: no fair scoring), the model ``card``'s own; with where it comes from. A model
    that states no search threshold is refused (:class:`ConfigError`) until one of the
    others gives one."""
    if settings_value is not None:
        return settings_value, "settings"
    if calibrated is not None:
        return calibrated, "calibration"
    if fair_threshold is not None:
        return fair_threshold, "fair default"
    return card().required("search_min_similarity"), "default"


def shipped_threshold(model_id: str) -> float | None:
    """The threshold of the fair scorer shipped for ``model_id`` (as
    :meth:`FairScorer.shipped(model_id).threshold <faceatlas.search.fairness.FairScorer>`),
    ``None`` when none ships; :class:`ValueError` when the file is for another model."""
    resource = shipped_resource(model_id)
    if not resource.is_file():
        return None
    with resource.open("rb") as f, zipfile.ZipFile(f) as z:
        meta = json.loads(_npy_bytes(z.read("meta.npy")))
    if meta["model_id"] != model_id:
        raise ValueError(f"{shipped_name(model_id)} was fitted for {meta['model_id']}")
    return float(meta["threshold"])


def _npy_bytes(data: bytes) -> bytes:
    """The payload of a one-dimensional ``uint8`` array in NumPy's ``.npy`` format."""
    if not data.startswith(NPY_MAGIC):
        raise ValueError("not a .npy array")
    if data[6] == 1:  # format 1.0: a two-byte header length; 2.0 and 3.0: four bytes
        (size,), start = struct.unpack("<H", data[8:10]), 10
    else:
        (size,), start = struct.unpack("<I", data[8:12]), 12
    header = ast.literal_eval(data[start : start + size].decode("latin-1"))
    if header.get("descr") != "|u1" or len(header.get("shape", ())) != 1:
        raise ValueError(f"not a one-dimensional uint8 array: {header}")
    payload = data[start + size :]
    if len(payload) != header["shape"][0]:
        raise ValueError("truncated .npy array")
    return payload
