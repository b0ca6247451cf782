"""Every face of a group photo searched in one request, each face with its own candidates.

The request is checked (case and purpose, upload size), counted once against the rate limit
and admitted into its case like any search; the photo is analysed once and its faces (the
``group_max_faces`` largest) searched one by one (:mod:`faceatlas.search.group`). **Each face
searched is audited on its own**: one ``search`` entry per face (``parameters.face`` names
it; ``details.group`` gives the faces found and searched), recorded into the case like a
single search with that face selected. A face too poor to search is listed with the reasons
and searches nothing; if no face can be searched the request is refused
(``probe_quality``), and a photo without faces is ``no_face``.
"""

from __future__ import annotations

import base64
import io
from dataclasses import replace
from typing import Any

from PIL import Image

from faceatlas.accounts import User
from faceatlas.engine import decode_image
from faceatlas.errors import ProbeQualityError
from faceatlas.search import ProbeFace
from faceatlas.search.group import GroupFace, search_all_faces
from faceatlas.services.search import (
    SearchOutcome,
    SearchRecord,
    SearchRequest,
    probe_digests,
    resolve_top_k,
    search_parameters,
)
from faceatlas.services.service import Service
from faceatlas.types import record

__all__ = ["GroupDesk", "GroupFaceOutcome", "GroupOutcome", "PhotoView", "photo_view"]


@record
class GroupFaceOutcome:
    """One face of the photo: its own audited search, or why it was not searched."""

    face: ProbeFace
    outcome: SearchOutcome | None
    refused: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.face.as_dict(),
            "refused": self.refused,
            "search": None if self.outcome is None else self.outcome.as_dict(),
        }


@record
class GroupOutcome:
    probe_sha256: str
    faces_found: int
    faces: tuple[GroupFaceOutcome, ...]
    """Largest first; ``faces[i].face.index == i`` (the numbers on the photo)."""
    max_faces: int

    @property
    def skipped(self) -> int:
        """Faces beyond ``max_faces`` (the smallest), not searched."""
        return self.faces_found - len(self.faces)

    def as_dict(self) -> dict[str, Any]:
        return {
            "probe_sha256": self.probe_sha256,
            "faces_found": self.faces_found,
            "faces_searched": sum(1 for f in self.faces if f.outcome is not None),
            "faces_skipped": self.skipped,
            "max_faces": self.max_faces,
            "faces": [f.as_dict() for f in self.faces],
        }


class GroupDesk:
    """Group-photo searches on behalf of a user."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def search(self, user: User, data: bytes, request: SearchRequest) -> GroupOutcome:
        service = self.service
        case, purpose = service.check_case(request.case_number, request.purpose)
        service.check_upload(data)
        top_k = resolve_top_k(service.settings, request.top_k)
        max_faces = service.settings.group_max_faces
        service.limiter.hit(user.username)
        service.casework.admit_search(user, case, purpose)
        service.refresh()
        with service.gate.shared():
            group = search_all_faces(
                service.atlas.searcher,
                data,
                max_faces=max_faces,
                top_k=top_k,
                min_similarity=request.threshold,
            )
        if not group.searched:
            reasons = "; ".join(f"face {f.face.index}: {f.refused}" for f in group.faces)
            raise ProbeQualityError(f"no face of the photo can be searched: {reasons}")
        shape = {
            "faces_found": group.faces_found,
            "faces_searched": len(group.searched),
            "faces_refused": [f.face.index for f in group.faces if f.result is None],
        }
        faces = tuple(self._face(user, data, request, top_k, f, shape) for f in group.faces)
        return GroupOutcome(probe_digests([data])[0], group.faces_found, faces, max_faces)

    def _face(
        self,
        user: User,
        data: bytes,
        request: SearchRequest,
        top_k: int,
        face: GroupFace,
        shape: dict[str, Any],
    ) -> GroupFaceOutcome:
        result = face.result
        if result is None:
            return GroupFaceOutcome(face.face, None, face.refused)
        service = self.service
        record = SearchRecord(
            search_parameters(result, top_k),
            [h.face_id for h in result.hits],
            {"group": shape},
        )
        _, entry, hashes = service.accountable_search(
            user,
            replace(request, face=face.face.index),
            [data],
            lambda: (result, record),
            counted=False,
        )
        service.casework.record_search(user, entry.case_number or "", entry, data, result)
        return GroupFaceOutcome(face.face, SearchOutcome(result, entry, hashes[0]))


@record
class PhotoView:
    """A photo as a page shows it: a JPEG ``data:`` URI at most ``max_px`` on its longest
    side, and the upright size of the original, in which face boxes are given."""

    data_uri: str
    width: int
    height: int


def photo_view(service: Service, data: bytes, max_px: int) -> PhotoView:
    """``data`` (a probe already searched) shrunk for display; nothing is stored."""
    st = service.settings
    pixels = decode_image(data, max_pixels=st.max_pixels, max_bytes=st.max_file_bytes).pixels
    height, width = pixels.shape[:2]
    image = Image.fromarray(pixels)
    image.thumbnail((max_px, max_px))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    uri = "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode("ascii")
    return PhotoView(uri, width, height)
