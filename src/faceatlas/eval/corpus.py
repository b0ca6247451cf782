"""The dataset layer every suite shares: labelled photos, demographic groups, splits.

A :class:`Corpus` is a list of photos with an identity each and, optionally,
demographic group labels per attribute. Loaders read the label files that
ship with the data sets; nothing here guesses a label from pixels.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import field
from enum import StrEnum
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from faceatlas.errors import InvalidRequestError, NotFoundError
from faceatlas.types import record

__all__ = [
    "Corpus",
    "Half",
    "folder_corpus",
    "lfw_corpus",
    "split_identities",
    "utkface_corpus",
]

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}
UTK_GENDER = {"0": "male", "1": "female"}
UTK_RACE = {"0": "White", "1": "Black", "2": "Asian", "3": "Indian", "4": "Others"}
MIXED = "multiple labels"


class Half(StrEnum):
    """Which side of the documented identity split a person falls on."""

    CALIBRATION = "calibration"
    HELD_OUT = "held-out"


@record
class Corpus:
    """``paths[i]`` shows person ``identities[i]``; ``groups[attr][i]`` is their label or None."""

    name: str
    paths: tuple[Path, ...]
    identities: tuple[str, ...]
    groups: dict[str, tuple[str | None, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.paths) != len(self.identities):
            raise ValueError("one identity per photo is needed")
        for attr, labels in self.groups.items():
            if len(labels) != len(self.paths):
                raise ValueError(f"one {attr} label per photo is needed")

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, keep: Sequence[int] | npt.NDArray[np.int_], name: str | None = None) -> Corpus:
        idx = [int(i) for i in keep]
        return Corpus(
            name=name or self.name,
            paths=tuple(self.paths[i] for i in idx),
            identities=tuple(self.identities[i] for i in idx),
            groups={a: tuple(v[i] for i in idx) for a, v in self.groups.items()},
        )

    def by_identity(self) -> dict[str, list[int]]:
        """Photo indices per identity, in first-seen order."""
        out: dict[str, list[int]] = {}
        for i, ident in enumerate(self.identities):
            out.setdefault(ident, []).append(i)
        return out

    def half(self, which: Half) -> Corpus:
        """The photos of people on one side of :func:`split_identities`."""
        sides = split_identities(self.name, self.identities)
        return self.subset(
            [i for i, s in enumerate(sides) if s is which], f"{self.name} ({which.value})"
        )

    def first_people(self, limit: int) -> Corpus:
        """Every photo of the first ``limit`` identities (sorted by name): a small real subset."""
        keep_ids = set(sorted(self.by_identity())[:limit])
        return self.subset([i for i, p in enumerate(self.identities) if p in keep_ids])


def split_identities(dataset: str, identities: Sequence[str]) -> list[Half]:
    """A fixed 50/50 split of *people* (never of photos), from a hash of the name.

    The same person always falls on the same side, whatever subset is loaded,
    so a threshold calibrated on one side is audited on people it never saw.
    """
    sides: list[Half] = []
    cache: dict[str, Half] = {}
    for ident in identities:
        side = cache.get(ident)
        if side is None:
            digest = hashlib.sha256(f"faceatlas-split-v1|{dataset}|{ident}".encode()).digest()
            side = Half.CALIBRATION if digest[0] % 2 == 0 else Half.HELD_OUT
            cache[ident] = side
        sides.append(side)
    return sides


def _need_dir(path: Path) -> Path:
    if not path.is_dir():
        raise NotFoundError(f"no folder at {path}")
    return path


def _race_label(raw: str) -> str:
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    return parts[0] if len(parts) == 1 else MIXED


def lfw_corpus(lfw_dir: Path) -> Corpus:
    """All of LFW (``lfw_dir/images/<Name>/<Name>_NNNN.jpg``) with gender and race labels.

    Gender comes from ``labels/male_names.txt`` / ``female_names.txt`` (by file;
    a file in both or neither gets no label); race from ``labels/lfw_race_dict.json``
    (by person; people with several labels form the group ``multiple labels``).
    """
    images = _need_dir(lfw_dir / "images")
    paths: list[Path] = []
    identities: list[str] = []
    for person in sorted(p for p in images.iterdir() if p.is_dir()):
        for photo in sorted(person.glob("*.jpg")):
            paths.append(photo)
            identities.append(person.name)
    if not paths:
        raise InvalidRequestError(f"no LFW photos under {images}")
    labels = lfw_dir / "labels"
    groups: dict[str, tuple[str | None, ...]] = {}
    male_file, female_file = labels / "male_names.txt", labels / "female_names.txt"
    if male_file.is_file() and female_file.is_file():
        male = set(male_file.read_text().split())
        female = set(female_file.read_text().split())
        gender: list[str | None] = []
        for p in paths:
            is_m, is_f = p.name in male, p.name in female
            gender.append("male" if is_m and not is_f else "female" if is_f and not is_m else None)
        groups["gender"] = tuple(gender)
    race_file = labels / "lfw_race_dict.json"
    if race_file.is_file():
        races: dict[str, str] = json.loads(race_file.read_text())
        groups["race"] = tuple(_race_label(races[i]) if i in races else None for i in identities)
    return Corpus("lfw", tuple(paths), tuple(identities), groups)


def utkface_corpus(utk_dir: Path) -> Corpus:
    """UTKFace crops named ``age_gender_race_date.jpg.chip.jpg``.

    The data set names every file as a different person, but some people appear under
    several file names; the files listed in ``data/utkface_same_person.tsv`` (reviewed by
    eye) share one identity, named after the first of them in sorted order. Files whose
    name does not follow the pattern keep their identity but get no labels.
    """
    photos = sorted(p for p in _need_dir(utk_dir).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not photos:
        raise InvalidRequestError(f"no photos in {utk_dir}")
    gender: list[str | None] = []
    race: list[str | None] = []
    age: list[str | None] = []
    for p in photos:
        parts = p.name.split("_")
        ok = len(parts) >= 4 and parts[0].isdigit()
        gender.append(UTK_GENDER.get(parts[1]) if ok else None)
        race.append(UTK_RACE.get(parts[2]) if ok else None)
        age.append(_age_band(int(parts[0])) if ok else None)
    same = utkface_same_person()
    return Corpus(
        "utkface",
        tuple(photos),
        tuple(same.get(p.name, p.name) for p in photos),
        {"gender": tuple(gender), "race": tuple(race), "age": tuple(age)},
    )


AGE_BANDS = ((17, "0-17"), (39, "18-39"), (59, "40-59"))
"""Upper age of each band; older people fall in ``60+``."""


def _age_band(years: int) -> str:
    for top, label in AGE_BANDS:
        if years <= top:
            return label
    return "60+"


def utkface_same_person() -> dict[str, str]:
    """File name -> canonical identity for the UTKFace files that show one person."""
    text = resources.files("faceatlas.eval").joinpath("data/utkface_same_person.tsv").read_text()
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent.setdefault(name, name) != name:
            name = parent[name]
        return name

    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        a, b = line.split("\t")
        ra, rb = root(a.strip()), root(b.strip())
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {name: root(name) for name in parent}


def folder_corpus(folder: Path) -> Corpus:
    """Every image under ``folder``, each taken as a different person (distractors)."""
    photos = sorted(
        p
        for p in _need_dir(folder).rglob("*")
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )
    if not photos:
        raise InvalidRequestError(f"no photos under {folder}")
    return Corpus(
        f"distractors:{folder.name}", tuple(photos), tuple(f"{folder}:{p}" for p in photos)
    )
