"""Subject access: what the atlas holds that matches a verified requester's selfie.

Administrator-mediated: the administrator verifies the requester's identity
out of band and names themself and the case; the export is logged (counts
only). The export lists faces, thumbnails (the requester's own data), images
and every sighting with its source URL; it never holds embeddings or the
selfie.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from faceatlas.errors import InvalidRequestError
from faceatlas.privacy.log import Actor, PrivacyEntry, log_entry
from faceatlas.privacy.matching import optout_threshold
from faceatlas.privacy.optout import matching_faces, templates_from_selfies
from faceatlas.search.results import image_dict, sighting_dict
from faceatlas.store import utc_now

if TYPE_CHECKING:
    from faceatlas.privacy.scope import PrivacyScope

__all__ = ["subject_access_export"]


def subject_access_export(
    scope: PrivacyScope,
    selfies: Sequence[bytes],
    *,
    requester: str,
    verified_by: str,
    by: Actor,
    include_thumbnails: bool = True,
) -> dict[str, Any]:
    """JSON-ready export of every stored face matching the selfies.

    ``by`` is who carries the export out (the signed-in user of the REST API, else
    ``verified_by``), with the case it is under, which is required.

    The threshold is the more inclusive of the search threshold and the opt-out
    threshold: a person sees every face that search or an opt-out would treat as theirs.
    """
    case_ref = by.case_ref or ""
    for name, value in (("requester", requester), ("verified_by", verified_by), ("case", case_ref)):
        if not value.strip():
            raise InvalidRequestError(f"{name} is required for a subject access export")
    templates = templates_from_selfies(scope, selfies)
    threshold, source = min(scope.searcher.threshold(), optout_threshold(scope))
    matches = matching_faces(scope, templates, threshold)
    records = scope.gallery.catalog.faces(sorted(matches))
    faces: list[dict[str, Any]] = []
    urls: set[str] = set()
    for face_id in sorted(records, key=lambda f: -matches[f]):
        rec = records[face_id]
        sightings = [sighting_dict(s, last_modified=False) for s in rec.sightings]
        for s in rec.sightings:
            urls.update(u for u in (s.locator, s.page_url) if u)
        entry: dict[str, Any] = {
            "face_id": rec.id,
            "similarity": round(matches[face_id], 4),
            "box": rec.box.as_dict(),
            "image": image_dict(rec.image),
            "sightings": sightings,
        }
        if include_thumbnails:
            jpeg = scope.gallery.catalog.thumbnail(rec.id)
            entry["thumbnail_jpeg_base64"] = (
                None if jpeg is None else base64.b64encode(jpeg).decode("ascii")
            )
        faces.append(entry)
    logged: dict[str, Any] = {"faces": len(faces), "source_urls": len(urls)}
    if by.name != verified_by:
        logged["verified_by"] = verified_by
    log_entry(scope, PrivacyEntry("subject_access", f"requester:{requester}", by, logged))
    return {
        "generated_at": utc_now(),
        "requester": requester,
        "verified_by": verified_by,
        "case": case_ref,
        "model_id": scope.gallery.model_id,
        "threshold": round(threshold, 4),
        "threshold_source": source,
        "notice": (
            "Faces are matched automatically and may include look-alikes; "
            "each entry is a lead to check, not an identification."
        ),
        "faces": faces,
        "source_urls": sorted(urls),
    }
