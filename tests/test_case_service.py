"""The case services: every search belongs to a case (opened by the first search, refused to
outsiders and on a closed case, recorded after the audited search), decisions and blind
verification on plain inputs, the side-by-side comparison and the report, with real photos
and the real engine."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from faceatlas import Atlas
from faceatlas.accounts import Role
from faceatlas.cases import Conclusion, Feature
from faceatlas.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    SelfVerificationError,
)
from faceatlas.services import SearchRequest, Service
from faceatlas.services.cases import OPENED_BY_SEARCH, Submission
from tests.conftest import LEAD_SIMILARITY, atlas_settings

PURPOSE = "criminal investigation"
LEAD_FORM: dict[str, object] = {f.value: "similar" for f in Feature} | {"ears": "not_visible"}
NUMBER = "2026/SVC-1"


@pytest.fixture
def service(people_atlas_dir: Path, tmp_path: Path) -> Iterator[Service]:
    root = tmp_path / "atlas"
    shutil.copytree(people_atlas_dir, root)
    with Atlas.open(settings=atlas_settings(root)) as atlas:
        yield Service(atlas)


def _search(service: Service, who: object, photo: Path, number: str = NUMBER) -> None:
    request = SearchRequest(number, PURPOSE, threshold=LEAD_SIMILARITY)
    service.search(who, photo.read_bytes(), request)  # type: ignore[arg-type]


def test_a_search_opens_its_case_and_is_recorded_into_it(
    service: Service, probe_photos: Path
) -> None:
    accounts = service.atlas.accounts
    alice = accounts.create_user("alice", Role.INVESTIGATOR, unit="A")[0]
    bob = accounts.create_user("bob", Role.INVESTIGATOR, unit="A")[0]
    vera = accounts.create_user("vera", Role.INVESTIGATOR, unit="A")[0]
    cases = service.casework

    _search(service, alice, probe_photos / "obama1.jpg")
    view = cases.show(alice, NUMBER)
    assert view.case.owner == "alice" and view.case.legal_basis == OPENED_BY_SEARCH
    assert view.case.purpose == PURPOSE and len(view.searches) == 1 and view.candidates
    entry = service.atlas.audit.entries(action="search", limit=1)[0]
    assert view.searches[0].audit_seq == entry.seq
    assert [c.face_id for c in view.candidates] == entry.details["result_face_ids"]
    actions = [e.action for e in service.atlas.audit.entries(case_number=NUMBER)]
    assert actions.count("case_created") == 1 and "case_search_recorded" in actions

    # Outsiders cannot search for the case (nor learn it exists); members can, once added.
    with pytest.raises(NotFoundError):
        _search(service, bob, probe_photos / "obama1.jpg")
    cases.add_member(alice, NUMBER, "bob", "examiner")
    cases.add_member(alice, NUMBER, "vera", "verifier")
    with pytest.raises(InvalidRequestError, match="case role"):
        cases.add_member(alice, NUMBER, "vera", "boss")
    _search(service, bob, probe_photos / "alex_lacamoire1.jpg")
    with pytest.raises(PermissionDeniedError):
        _search(service, vera, probe_photos / "obama1.jpg")
    view = cases.show(bob, NUMBER)
    assert len(view.searches) == 2 and [c.number for c in cases.cases(bob)] == [NUMBER]

    # Decisions and verification on plain inputs; never one's own.
    top = view.candidates[0]
    decision = cases.decide(
        alice, top.id, Submission("possible_lead", LEAD_FORM, "nose alike", "alike")
    )
    with pytest.raises(InvalidRequestError, match="conclusion"):
        cases.decide(bob, view.candidates[1].id, Submission("match", LEAD_FORM, "x"))
    with pytest.raises(SelfVerificationError):
        cases.verify(alice, decision.decision_id, Submission("possible_lead", LEAD_FORM, "mine"))
    task = cases.verification_task(vera, decision.decision_id)
    assert task.examiner == "alice" and task.candidate.id == top.id
    sealed = cases.show(vera, NUMBER).decision_for(top.id)
    assert sealed is not None and sealed.sealed and sealed.conclusion is None
    verified = cases.verify(
        vera, decision.decision_id, Submission("possible_lead", LEAD_FORM, "agree")
    )
    assert verified.verified_lead and verified.conclusion is Conclusion.POSSIBLE_LEAD

    # Side by side: both faces upright at the photo's resolution, with their landmarks.
    comparison = cases.comparison(bob, top.id)
    assert comparison.candidate.id == top.id and comparison.sightings
    for side, cut_from in ((comparison.probe, "probe"), (comparison.face, "image")):
        assert side is not None and side.cut_from == cut_from
        with Image.open(io.BytesIO(side.crop.jpeg)) as img:
            assert img.format == "JPEG" and img.size == (side.crop.width, side.crop.height)
        assert side.crop.width > 112  # larger than the embedder's chip
        assert len(side.crop.landmarks) == 5
        (lx, ly), (rx, ry) = side.crop.landmarks[:2]
        assert lx < rx and abs(ly - ry) < 0.02 * side.crop.width  # eyes level
        assert all(
            0 <= x <= side.crop.width and 0 <= y <= side.crop.height for x, y in side.crop.landmarks
        )
        assert side.quality.box_px > 0
    assert comparison.as_dict()["probe"]["image"].startswith("data:image/jpeg;base64,")
    outsider = service.atlas.accounts.create_user("dave", Role.INVESTIGATOR, unit="B")[0]
    with pytest.raises(NotFoundError):
        cases.comparison(outsider, top.id)
    with pytest.raises(NotFoundError):
        cases.number_of(outsider, view.case.id)
    assert cases.number_of(vera, view.case.id) == NUMBER

    # Reports, then closing: no more searches for the case.
    assert cases.report_pdf(vera, NUMBER).startswith(b"%PDF")
    assert NUMBER in cases.report_html(vera, NUMBER).decode()
    closed = cases.close(alice, NUMBER, erase_probes=True)
    assert closed.status.value == "closed"
    with pytest.raises(ConflictError):
        _search(service, alice, probe_photos / "obama1.jpg")
    assert cases.comparison(bob, top.id).probe is None  # the probe photo is erased
    assert service.atlas.audit.verify().ok


def test_opening_a_case_checks_its_fields(service: Service) -> None:
    alice = service.atlas.accounts.create_user("alice", Role.INVESTIGATOR, unit="A")[0]
    cases = service.casework
    with pytest.raises(InvalidRequestError, match="YYYY-MM-DD"):
        cases.open(alice, "2026/X-1", PURPOSE, "court order", "tomorrow")
    case = cases.open(alice, "2026/X-1", PURPOSE, "court order", None)
    assert case.owner == "alice" and case.legal_basis == "court order"
    with pytest.raises(ConflictError):
        cases.open(alice, "2026/X-1", PURPOSE, "court order", "2999-01-01")


def test_retention_run_erases_the_probes_of_closed_cases_whose_date_has_come(
    service: Service, probe_photos: Path
) -> None:
    from datetime import UTC, datetime, timedelta

    from faceatlas.services.privacy import PrivacyDesk

    alice = service.atlas.accounts.create_user("alice", Role.INVESTIGATOR, unit="A")[0]
    admin = service.atlas.accounts.create_user("root", Role.ADMIN, unit="A")[0]
    cases = service.casework
    today = datetime.now(UTC).date()
    cases.open(alice, "2026/RET-1", PURPOSE, "order 7", today + timedelta(days=3))
    _search(service, alice, probe_photos / "obama1.jpg", "2026/RET-1")
    cases.close(alice, "2026/RET-1")
    assert all(p.erased_at is None for p in cases.show(alice, "2026/RET-1").probes)

    desk = PrivacyDesk(service)
    desk.retention(admin)  # the retention date has not come
    assert all(p.erased_at is None for p in cases.show(alice, "2026/RET-1").probes)
    later = datetime.now(UTC) + timedelta(days=4)
    cases.desk.clock = lambda: later  # the clock seam: four days on
    desk.retention(admin)
    assert all(p.erased_at is not None for p in cases.show(alice, "2026/RET-1").probes)
    erased = service.atlas.audit.entries(action="case_probes_erased")
    assert [e.case_number for e in erased] == ["2026/RET-1"] and erased[0].actor == "root"
