"""Every face of one photo searched at once: the photo is analysed once, each face (largest
first, at most ``max_faces``) passes the probe quality gate on its own and gets its own
candidates, exactly as a single search with that face selected would."""

from __future__ import annotations

from dataclasses import replace

from faceatlas.engine.probe_gate import Verdict, assess_probe
from faceatlas.errors import InvalidRequestError, NoFaceError
from faceatlas.search.results import ProbeFace, SearchResult
from faceatlas.search.searcher import Searcher
from faceatlas.types import record

__all__ = ["GroupFace", "GroupResult", "search_all_faces"]


@record
class GroupFace:
    """One face of the photo: its candidates, or why it was not searched."""

    face: ProbeFace
    result: SearchResult | None
    refused: str | None = None
    """The probe quality gate's reasons when the face is too poor to search."""


@record
class GroupResult:
    faces_found: int
    faces: tuple[GroupFace, ...]
    """The faces searched or refused, largest first (``faces[i].face.index == i``)."""

    @property
    def skipped(self) -> int:
        """Faces beyond the limit, smallest ones, not searched."""
        return self.faces_found - len(self.faces)

    @property
    def searched(self) -> tuple[GroupFace, ...]:
        return tuple(f for f in self.faces if f.result is not None)


def search_all_faces(
    searcher: Searcher,
    data: bytes,
    *,
    max_faces: int,
    top_k: int | None = None,
    min_similarity: float | None = None,
) -> GroupResult:
    """Search with every face of ``data``, the ``max_faces`` largest at most.

    Raises :class:`NoFaceError` when the photo has no face; a face below the probe quality
    floors is listed with its reasons instead of candidates.
    """
    if max_faces < 1:
        raise InvalidRequestError("max_faces must be at least 1")
    analysed = searcher.analyze(data)
    if not analysed:
        raise NoFaceError("no face found in the photo")
    probe = [ProbeFace(i, f.box, f.quality) for i, f in enumerate(analysed)]
    floors = searcher.gallery.card.probe_floors
    faces: list[GroupFace] = []
    for i, face in enumerate(analysed[:max_faces]):
        verdict = assess_probe(face.quality, floors)
        if verdict.verdict is Verdict.REFUSE:
            faces.append(GroupFace(probe[i], None, "; ".join(verdict.reasons)))
            continue
        result = searcher.search_vector(
            face.embedding, probe, i, top_k=top_k, min_similarity=min_similarity
        )
        faces.append(GroupFace(probe[i], replace(result, probe_quality=verdict)))
    return GroupResult(len(analysed), tuple(faces))
