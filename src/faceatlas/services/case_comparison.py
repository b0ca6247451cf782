"""What an examiner compares for one candidate of a case: the probe face and the candidate
face side by side, each as an aligned crop at the photo's own resolution with its five
landmarks and its quality measures, the scores and error estimates the search showed, and
every place the candidate's image was seen.

The probe face is cut from the probe photo kept under the case (the face the search used);
once retention has erased the photo there is no probe crop. The candidate face is cut from
its image, read again from where it was ingested when that still holds the same bytes (a
local folder), else from its stored thumbnail.
"""

from __future__ import annotations

import base64
from typing import Any

from faceatlas.accounts import User
from faceatlas.atlas import Atlas
from faceatlas.cases import CaseAction, CaseDesk
from faceatlas.engine import analyze_faces, decode_image
from faceatlas.engine.crop import AlignedCrop, aligned_crop
from faceatlas.engine.video import VideoLimits, VideoSampler, looks_like_video
from faceatlas.errors import NotFoundError
from faceatlas.ingest.reembed import local_file_reader, read_image
from faceatlas.services.records import SightingView, sighting_view
from faceatlas.store.case_records import CandidateRecord, CaseSearch
from faceatlas.store.records import FaceRecord
from faceatlas.types import Box, DetectedFace, FaceQuality, RGBImage, record, record_dict

__all__ = ["ComparedFace", "Comparison", "compare"]


@record
class ComparedFace:
    """One side of a comparison: the aligned crop (JPEG), its five landmarks in the crop's
    pixels (the engine's order), the face's quality measures, and what it was cut from:
    ``probe`` (the kept probe photo), ``image`` (the stored image) or ``thumbnail``."""

    crop: AlignedCrop
    quality: FaceQuality
    cut_from: str

    @property
    def data_uri(self) -> str:
        """The crop as a ``data:image/jpeg;base64,...`` URI."""
        return "data:image/jpeg;base64," + base64.b64encode(self.crop.jpeg).decode("ascii")

    def as_dict(self) -> dict[str, Any]:
        return {
            "width": self.crop.width,
            "height": self.crop.height,
            "landmarks": [list(p) for p in self.crop.landmarks],
            "quality": self.quality.as_dict(),
            "cut_from": self.cut_from,
            "image": self.data_uri,
        }


@record
class Comparison:
    """A case candidate beside the probe face it was found for."""

    case_number: str
    candidate: CandidateRecord
    search: CaseSearch
    probe_sha256: str
    probe: ComparedFace | None
    """``None`` once retention erased the probe photo (or no face is found in it again)."""
    face: ComparedFace | None
    """``None`` when neither the image nor a thumbnail of the candidate is left."""
    sightings: tuple[SightingView, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "case_number": self.case_number,
            "candidate": self.candidate.as_dict(),
            "search": self.search.as_dict(),
            "probe_sha256": self.probe_sha256,
            "probe": None if self.probe is None else self.probe.as_dict(),
            "face": None if self.face is None else self.face.as_dict(),
            "sightings": [record_dict(s) for s in self.sightings],
        }


def compare(atlas: Atlas, desk: CaseDesk, user: User, candidate_id: int) -> Comparison:
    """The comparison of candidate ``candidate_id`` for a reader of its case (``not_found``
    for anyone else). Uses the engine: call it with entry to the engine gate."""
    found = desk.store.candidate(candidate_id)
    if found is None:
        raise NotFoundError(f"candidate {candidate_id} not found")
    candidate, case_id = found
    case = desk.ledger.grant(user, case_id, CaseAction.READ).case
    search = next(s for s in desk.store.searches(case_id) if s.id == candidate.search_id)
    probe = next(p for p in desk.store.probes(case_id, with_data=True) if p.id == search.probe_id)
    faces = atlas.gallery.faces([candidate.face_id])
    record = faces.get(candidate.face_id)
    return Comparison(
        case_number=case.number,
        candidate=candidate,
        search=search,
        probe_sha256=probe.sha256,
        probe=None if probe.data is None else _probe_face(atlas, probe.data, search.audit_seq),
        face=_candidate_face(atlas, candidate.face_id, record),
        sightings=tuple(sighting_view(s, record.span) for s in record.sightings) if record else (),
    )


def _crop(atlas: Atlas, image: RGBImage, face: DetectedFace) -> AlignedCrop:
    left_eye, right_eye, _ = atlas.engine.eyes_and_nose(face)
    return aligned_crop(image, face.box, face.landmarks, (left_eye, right_eye))


def _probe_face(atlas: Atlas, data: bytes, search_seq: int) -> ComparedFace | None:
    """The face the search used (its ``face`` parameter, or a clip's ``track``), as the
    search measured it."""
    st = atlas.settings
    entry = atlas.audit.entries(before_seq=search_seq + 1, limit=1)
    parameters = (
        entry[0].details.get("parameters", {}) if entry and entry[0].seq == search_seq else {}
    )
    if looks_like_video(data[:16]):
        return _video_probe_face(atlas, data, int(parameters.get("track") or 0))
    image = decode_image(data, max_pixels=st.max_pixels, max_bytes=st.max_file_bytes).pixels
    faces = analyze_faces(atlas.engine, image, thumbnail_px=st.thumbnail_px)
    selected = int(parameters.get("face") or 0)
    if not faces:
        return None
    face = faces[min(selected, len(faces) - 1)]
    return ComparedFace(_crop(atlas, image, face.detection), face.quality, "probe")


def _video_probe_face(atlas: Atlas, data: bytes, track: int) -> ComparedFace | None:
    """Face track ``track`` of a probe clip, cut from the frame its best face is in."""
    tracks = atlas.searcher.clip(data).tracks
    if not tracks:
        return None
    best = tracks[min(track, len(tracks) - 1)].face
    assert best.span is not None
    with VideoSampler(data, VideoLimits.from_settings(atlas.settings, probe=True)) as video:
        frame = video.frame_at(best.span.best_s)
    return ComparedFace(_crop(atlas, frame, best.detection), best.quality, "probe")


def _candidate_face(atlas: Atlas, face_id: int, record: FaceRecord | None) -> ComparedFace | None:
    if record is None:  # erased since the search
        return None
    image = read_image(atlas.catalog, record.image.id, local_file_reader, atlas.settings.max_pixels)
    cut_from = "image"
    if image is not None:
        height, width = image.shape[:2]
        located = atlas.engine.locate(image, record.box.clip(width, height))
    else:
        jpeg = atlas.catalog.thumbnail(face_id)
        if jpeg is None:
            return None
        image, cut_from = (
            decode_image(jpeg, max_pixels=atlas.settings.max_pixels).pixels,
            "thumbnail",
        )
        height, width = image.shape[:2]
        detected = sorted(atlas.engine.detect(image), key=lambda f: -f.box.area)
        # else: the thumbnail is the face box grown by a fifth on each side
        inset_x, inset_y = round(width / 7), round(height / 7)
        located = (
            detected[0]
            if detected
            else atlas.engine.locate(
                image, Box(inset_x, inset_y, width - inset_x, height - inset_y)
            )
        )
    return ComparedFace(_crop(atlas, image, located), record.quality, cut_from)
