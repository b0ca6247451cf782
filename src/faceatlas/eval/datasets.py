"""Labelled face datasets on disk, with their official protocols."""

from __future__ import annotations

from pathlib import Path

from faceatlas.errors import InvalidRequestError, NotFoundError
from faceatlas.types import record

__all__ = ["LfwPair", "lfw_image_path", "lfw_people", "read_lfw_pairs"]


@record
class LfwPair:
    fold: int
    a: Path
    b: Path
    same: bool


def lfw_image_path(images_dir: Path, name: str, number: int) -> Path:
    return images_dir / name / f"{name}_{number:04d}.jpg"


def read_lfw_pairs(pairs_file: Path, images_dir: Path) -> list[LfwPair]:
    """Parse ``pairs.txt`` (View 2: first line ``folds n``, then per fold n mated, n non-mated)."""
    if not pairs_file.is_file():
        raise NotFoundError(f"no pairs file at {pairs_file}")
    if not images_dir.is_dir():
        raise NotFoundError(f"no images folder at {images_dir}")
    lines = [ln.split() for ln in pairs_file.read_text().splitlines() if ln.strip()]
    try:
        header = [int(x) for x in lines[0]]
    except (IndexError, ValueError):
        raise InvalidRequestError(
            f"{pairs_file}: first line must give fold count and size"
        ) from None
    folds, per = (header[0], header[1]) if len(header) == 2 else (1, header[0])
    body = lines[1:]
    if len(body) != folds * per * 2:
        raise InvalidRequestError(
            f"{pairs_file}: expected {folds * per * 2} pairs, found {len(body)}"
        )
    pairs: list[LfwPair] = []
    for i, parts in enumerate(body):
        fold = i // (2 * per)
        try:
            if len(parts) == 3:  # name n1 n2: two photos of one person
                name1, n1, n2 = parts
                name2 = name1
            elif len(parts) == 4:  # name1 n1 name2 n2: photos of two people
                name1, n1, name2, n2 = parts
            else:
                raise ValueError
            a = lfw_image_path(images_dir, name1, int(n1))
            b = lfw_image_path(images_dir, name2, int(n2))
        except ValueError:
            raise InvalidRequestError(f"{pairs_file}: line {i + 2} is not a pair") from None
        pairs.append(LfwPair(fold, a, b, len(parts) == 3))
    return pairs


def lfw_people(images_dir: Path) -> dict[str, list[Path]]:
    """Every LFW person and their photos, sorted."""
    return {
        d.name: sorted(d.glob("*.jpg"))
        for d in sorted(p for p in images_dir.iterdir() if p.is_dir())
    }
