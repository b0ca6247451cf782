"""Candidate names from provenance: alt text, captions, page titles and file names.

A candidate is a lead for an investigator to verify, never a fact: the same
page can name the photographer, a bystander or the wrong person. Each
sighting of an identity's photos votes once for every name its text holds;
when that text names several people the vote is split between them (a
caption naming three people gives each a third), because the name may
belong to anyone in the frame.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from faceatlas.identity.records import NameCandidate
from faceatlas.store.records import FaceRecord, SightingRecord

__all__ = ["extract_names", "name_candidates", "names_from_file_name"]

MAX_CANDIDATES = 10

_NAME = re.compile(
    r"\b[A-Z][a-z'’\-]+(?:\s+(?:[A-Z]\.?|[A-Z][a-z'’\-]+|(?:van|von|de|da|del|der|di|le|la|bin)))*"
    r"\s+[A-Z][a-z'’\-]+\b"
)
_PREFIX = {
    "a",
    "an",
    "the",
    "in",
    "on",
    "at",
    "of",
    "by",
    "with",
    "and",
    "from",
    "for",
    "to",
    "photo",
    "photos",
    "image",
    "picture",
    "portrait",
    "file",
    "mr",
    "mrs",
    "ms",
    "dr",
    "sir",
    "president",
    "prime",
    "minister",
    "senator",
    "governor",
    "chancellor",
    "king",
    "queen",
    "prince",
    "princess",
    "pope",
    "general",
    "secretary",
    "actor",
    "actress",
    "singer",
    "director",
    "ceo",
    "chairman",
    "former",
    "us",
    "u.s",
    "new",
    "here",
    "this",
    "left",
    "right",
    "centre",
    "center",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
}
_FILE_NOISE = {
    "img",
    "dsc",
    "dscn",
    "dscf",
    "image",
    "photo",
    "pic",
    "picture",
    "scan",
    "copy",
    "edited",
    "final",
    "thumb",
    "thumbnail",
    "small",
    "large",
    "crop",
    "cropped",
    "screenshot",
    "jpg",
    "jpeg",
    "png",
    "webp",
    "gif",
    "tif",
    "tiff",
    "bmp",
    "px",
    "version",
    "resized",
}


def extract_names(text: str | None) -> list[str]:
    """Personal-name-like phrases (two to five capitalised words) in free text, in order."""
    if not text:
        return []
    found: list[str] = []
    for match in _NAME.finditer(text):
        words = match.group(0).split()
        while words and words[0].lower().rstrip(".") in _PREFIX:
            words = words[1:]
        while words and words[-1].lower().rstrip(".") in _PREFIX:
            words = words[:-1]
        if 2 <= len(words) <= 5:
            name = " ".join(words)
            if name not in found:
                found.append(name)
    return found


def names_from_file_name(locator: str) -> list[str]:
    """A name spelt by a file name (``George_W_Bush_0001.jpg`` -> ``George W Bush``)."""
    path = urlsplit(locator).path if "://" in locator else locator
    stem = PurePosixPath(unquote(path)).stem
    tokens = [w for w in re.split(r"[^A-Za-z]+", stem) if w]
    words = [w for w in tokens if w.lower() not in _FILE_NOISE and (len(w) > 1 or w.isupper())]
    if not words or len(words) > 4 or not any(len(w) > 2 for w in words):
        return []
    return [" ".join(w if w.isupper() and len(w) == 1 else w.capitalize() for w in words)]


def _sighting_votes(s: SightingRecord) -> dict[str, tuple[float, set[str]]]:
    votes: dict[str, tuple[float, set[str]]] = {}
    fields: Iterable[tuple[str, list[str]]] = (
        ("alt_text", extract_names(s.alt_text)),
        ("caption", extract_names(s.caption)),
        ("page_title", extract_names(s.page_title)),
        ("file_name", names_from_file_name(s.locator)),
    )
    for field_name, names in fields:
        for name in names:
            weight = 1.0 / len(names)
            old_weight, old_fields = votes.get(name, (0.0, set()))
            votes[name] = (max(old_weight, weight), old_fields | {field_name})
    return votes


def name_candidates(faces: Sequence[FaceRecord]) -> list[NameCandidate]:
    """The names an identity's sightings hold, best supported first (at most ten)."""
    support: dict[str, float] = {}
    sightings: dict[str, set[int]] = {}
    face_ids: dict[str, set[int]] = {}
    fields: dict[str, set[str]] = {}
    pages: dict[str, set[str]] = {}
    seen: set[int] = set()
    for face in faces:
        for s in face.sightings:
            first_time = s.id not in seen
            seen.add(s.id)
            for name, (weight, where) in _sighting_votes(s).items():
                if first_time:
                    support[name] = support.get(name, 0.0) + weight
                    sightings.setdefault(name, set()).add(s.id)
                    pages.setdefault(name, set()).add(s.page_url or s.locator)
                face_ids.setdefault(name, set()).add(face.id)
                fields.setdefault(name, set()).update(where)
    total = sum(support.values())
    ranked = sorted(support, key=lambda n: (-support[n], -len(sightings[n]), n))
    return [
        NameCandidate(
            name=n,
            support=support[n],
            share=support[n] / total if total else 0.0,
            sightings=len(sightings[n]),
            faces=len(face_ids[n]),
            fields=tuple(sorted(fields[n])),
            pages=tuple(sorted(pages[n]))[:20],
        )
        for n in ranked[:MAX_CANDIDATES]
    ]
