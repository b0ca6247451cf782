"""Case report export: one self-contained HTML file and one PDF of a case.

The report holds the case details and members, its probe photos, every search with the
model and threshold in force, every candidate with its crop, its sources, its scores and
their error estimates, every decision and verification with who and when, and the case's
audit entries with their hashes, so that a reader can check the report against the log.
It states first that a candidate is an investigative lead, not an identification.

The HTML inlines its CSS and its images (``data:`` URIs) and loads nothing from anywhere:
it opens offline. The PDF (:mod:`faceatlas.cases.report_pdf`) is drawn from the same
:class:`CaseReport`. Exporting is itself audited (``case_report_exported``), and a reader
sees decisions as they may (sealed ones stay sealed; see :mod:`faceatlas.cases.examination`).
"""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime

from jinja2 import Environment, PackageLoader, select_autoescape
from PIL import Image

from faceatlas.accounts import User
from faceatlas.audit import AuditEntry
from faceatlas.cases.desk import CaseDesk
from faceatlas.cases.records import DecisionView
from faceatlas.engine.video import VideoLimits, VideoSampler, looks_like_video
from faceatlas.store import Catalog
from faceatlas.store.case_records import (
    CandidateRecord,
    CaseMember,
    CaseProbe,
    CaseRecord,
    CaseSearch,
)
from faceatlas.types import record

__all__ = [
    "REPORT_NOTICE",
    "CandidateEntry",
    "CaseReport",
    "ProbeEntry",
    "build_report",
    "render_html",
]

REPORT_NOTICE = (
    "Every candidate in this report is an investigative lead, not an identification. "
    "A similar face is not the same person; no action may be taken on a candidate unless "
    "two competent examiners have verified it independently."
)
PROBE_MAX_PX = 480
"""Longest side of a probe photo as embedded in a report."""


@record
class ProbeEntry:
    probe: CaseProbe
    image_uri: str | None
    """``data:`` URI of the photo, ``None`` once retention erased it."""


@record
class CandidateEntry:
    candidate: CandidateRecord
    search: CaseSearch
    crop_uri: str | None
    """``data:`` URI of the face crop, ``None`` if the catalog no longer holds it."""
    sources: tuple[str, ...]
    """Where the face's image was found: page URLs, else image locators."""
    decision: DecisionView | None


@record
class CaseReport:
    case: CaseRecord
    members: tuple[CaseMember, ...]
    probes: tuple[ProbeEntry, ...]
    searches: tuple[CaseSearch, ...]
    candidates: tuple[CandidateEntry, ...]
    decisions: tuple[DecisionView, ...]
    audit: tuple[AuditEntry, ...]
    """The case's audit entries, oldest first."""
    audit_ok: bool
    """Whether the whole audit log (and every case row) verified at export."""
    generated_by: str
    generated_at: str
    notice: str = REPORT_NOTICE


def data_uri(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


def _probe_jpeg(data: bytes) -> bytes:
    """A probe photo, or a probe clip's first frame, as the report shows it."""
    if looks_like_video(data[:16]):
        with VideoSampler(data, VideoLimits()) as video:
            rgb = Image.fromarray(video.frame_at(0.0))
    else:
        with Image.open(io.BytesIO(data)) as img:
            rgb = img.convert("RGB")
    rgb.thumbnail((PROBE_MAX_PX, PROBE_MAX_PX))
    out = io.BytesIO()
    rgb.save(out, format="JPEG", quality=85)
    return out.getvalue()


def build_report(desk: CaseDesk, catalog: Catalog, user: User, number: str) -> CaseReport:
    """Gather case ``number`` as ``user`` may read it, and record the export in the log."""
    case = desk.case(user, number)
    desk.ledger.record(user, case, "case_report_exported")
    searches = {s.id: s for s in desk.searches(user, number)}
    decisions = desk.decisions(user, number)
    by_candidate = {d.candidate_id: d for d in decisions}
    candidates = desk.candidates(user, number)
    faces = catalog.faces(sorted({c.face_id for c in candidates}))
    entries = []
    for c in candidates:
        face = faces.get(c.face_id)
        crop = catalog.thumbnail(c.face_id)
        sources = tuple(s.page_url or s.locator for s in face.sightings) if face else ()
        entries.append(
            CandidateEntry(
                candidate=c,
                search=searches[c.search_id],
                crop_uri=data_uri(crop) if crop else None,
                sources=sources,
                decision=by_candidate.get(c.id),
            )
        )
    probes = tuple(
        ProbeEntry(p, data_uri(_probe_jpeg(p.data)) if p.data else None)
        for p in desk.probes(user, number, with_data=True)
    )
    audit = desk.audit.entries(case_number=case.number, limit=1_000_000)
    return CaseReport(
        case=case,
        members=tuple(desk.members(user, number)),
        probes=probes,
        searches=tuple(searches.values()),
        candidates=tuple(entries),
        decisions=tuple(decisions),
        audit=tuple(reversed(audit)),
        audit_ok=desk.audit.verify().ok,
        generated_by=user.username,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("faceatlas.cases", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["rate"] = lambda v: "n/a" if v is None else f"{v:.3g}"
    env.filters["num"] = lambda v: "n/a" if v is None else f"{v:.4f}"
    return env


def render_html(report: CaseReport) -> str:
    """The report as one self-contained HTML page (inline CSS, ``data:`` images)."""
    return _environment().get_template("case_report.html.j2").render(r=report)
