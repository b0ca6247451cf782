"""Cases core: membership and visibility, recorded searches with real photos and the real
engine, examiner decisions with the FISWG form, blind two-person verification, retention,
and decision rows checked against the audit log, on every catalog backend."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from faceatlas import Atlas
from faceatlas.accounts import Role, User
from faceatlas.audit import AuditEvent
from faceatlas.cases import (
    CandidateInput,
    CaseDesk,
    CaseRole,
    CaseStatus,
    ComparisonForm,
    Conclusion,
    DecisionStatus,
    Feature,
    SearchInput,
    verify_records,
)
from faceatlas.errors import (
    CaseRequiredError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    SelfVerificationError,
)
from faceatlas.store import schema_cases as t

PURPOSE = "criminal investigation"
LEAD_FORM = {f.value: "similar" for f in Feature} | {"ears": "not_visible"}
EXCLUDED_FORM = {f.value: "dissimilar" for f in Feature}


@dataclass
class Team:
    alice: User  # owner, investigator, unit A
    bob: User  # examiner, unit A
    vera: User  # verifier, unit A
    carol: User  # supervisor, unit A (reviewer)
    dave: User  # investigator, unit B (outsider)
    erin: User  # supervisor, unit B (outsider)


def make_team(atlas: Atlas) -> Team:
    def user(name: str, role: Role, unit: str) -> User:
        return atlas.accounts.create_user(name, role, unit=unit)[0]

    return Team(
        alice=user("alice", Role.INVESTIGATOR, "A"),
        bob=user("bob", Role.INVESTIGATOR, "A"),
        vera=user("vera", Role.INVESTIGATOR, "A"),
        carol=user("carol", Role.SUPERVISOR, "A"),
        dave=user("dave", Role.INVESTIGATOR, "B"),
        erin=user("erin", Role.SUPERVISOR, "B"),
    )


def desk_of(atlas: Atlas, **kwargs: object) -> CaseDesk:
    return CaseDesk(atlas.catalog.db, atlas.audit, atlas.accounts, atlas.settings, **kwargs)  # type: ignore[arg-type]


def audited_search(atlas: Atlas, user: User, case_number: str, photo: Path) -> SearchInput:
    """A search as the services layer makes it: run, audited, then handed to the case."""
    data = photo.read_bytes()
    result = atlas.search(data)
    entry = atlas.audit.append(
        AuditEvent(
            actor=user.username,
            actor_role=user.role.value,
            actor_unit=user.unit,
            action="search",
            case_number=case_number,
            purpose=PURPOSE,
            details={
                "probe_sha256": hashlib.sha256(data).hexdigest(),
                "result_face_ids": [h.face_id for h in result.hits],
            },
        )
    )
    return SearchInput(
        audit_seq=entry.seq,
        probe=data,
        model_id=result.model_id,
        threshold=result.threshold,
        threshold_source=result.threshold_source,
        candidates=tuple(
            CandidateInput(
                face_id=h.face_id,
                rank=h.rank,
                similarity=h.similarity,
                score=h.score,
                estimated_fmr=h.estimated_fmr,
                estimated_fmr_upper=h.estimated_fmr_upper,
                estimated_fpir=None if h.estimated_fpir is None else h.estimated_fpir.fpir,
                estimated_fpir_upper=None
                if h.estimated_fpir is None
                else h.estimated_fpir.fpir_upper,
            )
            for h in result.hits
        ),
    )


def open_case(desk: CaseDesk, team: Team, number: str = "2026/CASE-7") -> str:
    desk.open_case(
        team.alice, number, PURPOSE, "court order 12/2026", date.today() + timedelta(days=30)
    )
    desk.add_member(team.alice, number, "bob", CaseRole.EXAMINER)
    desk.add_member(team.alice, number, "vera", CaseRole.VERIFIER)
    return number


def test_cases_flow_with_real_photos(people_atlas: Atlas, probe_photos: Path) -> None:
    team = make_team(people_atlas)
    desk = desk_of(people_atlas)
    number = open_case(desk, team)

    # Two searches with real photos, recorded into the case with their candidates.
    first = desk.record_search(
        team.alice,
        number,
        audited_search(people_atlas, team.alice, number, probe_photos / "obama1.jpg"),
    )
    desk.record_search(
        team.bob,
        number,
        audited_search(people_atlas, team.bob, number, probe_photos / "alex_lacamoire1.jpg"),
    )
    assert len(desk.searches(team.alice, number)) == 2
    candidates = desk.candidates(team.alice, number)
    assert candidates and candidates[0].search_id == first.id and candidates[0].rank == 1
    top_obama = candidates[0]
    assert "obama" in people_atlas.gallery.face(top_obama.face_id).sightings[0].locator

    # Decisions, validated against the form.
    form = ComparisonForm.parse(LEAD_FORM, "same ear shape not visible; nose bridge alike")
    with pytest.raises(InvalidRequestError, match="dissimilar"):
        desk.decide(team.alice, top_obama.id, Conclusion.EXCLUDED, form, "no")
    with pytest.raises(InvalidRequestError, match="reason"):
        desk.decide(team.alice, top_obama.id, Conclusion.POSSIBLE_LEAD, form, "  ")
    with pytest.raises(PermissionDeniedError):
        desk.decide(team.vera, top_obama.id, Conclusion.POSSIBLE_LEAD, form, "x")
    lead = desk.decide(team.alice, top_obama.id, Conclusion.POSSIBLE_LEAD, form, "strong match")
    assert lead.status is DecisionStatus.AWAITING_VERIFICATION and not lead.verified_lead
    with pytest.raises(ConflictError):
        desk.decide(team.bob, top_obama.id, Conclusion.INCONCLUSIVE, form, "second")
    alex = next(c for c in candidates if c.search_id != first.id)
    excluded = desk.decide(
        team.bob, alex.id, Conclusion.EXCLUDED, ComparisonForm.parse(EXCLUDED_FORM), "different"
    )

    # Blind verification: the verifier never sees the first conclusion before their own.
    sealed = next(v for v in desk.decisions(team.vera, number) if v.decision_id == lead.decision_id)
    assert sealed.sealed and sealed.conclusion is None and sealed.reason is None
    task = desk.verification_task(team.vera, lead.decision_id)
    assert task.examiner == "alice" and not hasattr(task, "conclusion")
    assert (
        task.probe_sha256 == hashlib.sha256((probe_photos / "obama1.jpg").read_bytes()).hexdigest()
    )
    with pytest.raises(SelfVerificationError) as refused:
        desk.verify(team.alice, lead.decision_id, Conclusion.POSSIBLE_LEAD, form, "mine")
    assert refused.value.code == "self_verification" and refused.value.http_status == 403
    with pytest.raises(SelfVerificationError):
        desk.verification_task(team.alice, lead.decision_id)
    verified = desk.verify(team.vera, lead.decision_id, Conclusion.POSSIBLE_LEAD, form, "agree")
    assert verified.verified_lead and verified.verifications[0].agrees
    assert verified.conclusion is Conclusion.POSSIBLE_LEAD
    with pytest.raises(ConflictError):
        desk.verify(team.vera, lead.decision_id, Conclusion.POSSIBLE_LEAD, form, "again")

    # Disagreement is recorded and shown.
    disputed = desk.verify(
        team.alice, excluded.decision_id, Conclusion.INCONCLUSIVE, form, "cannot exclude"
    )
    assert disputed.status is DecisionStatus.DISPUTED and not disputed.verifications[0].agrees
    shown = {v.decision_id: v for v in desk.decisions(team.vera, number)}
    assert shown[excluded.decision_id].conclusion is Conclusion.EXCLUDED
    assert not shown[excluded.decision_id].sealed

    # Every step is in the audit chain, and the rows agree with it.
    actions = [e.action for e in people_atlas.audit.entries(case_number=number)]
    for action in ("case_created", "case_member_added", "case_search_recorded"):
        assert action in actions
    assert actions.count("case_decision") == 2 and actions.count("case_verification") == 2
    assert people_atlas.audit.verify().ok
    assert verify_records(people_atlas.catalog.db, []) != []  # rows without their entries
    entries = [(e.seq, e.action, e.details) for e in people_atlas.audit.iter_all()]
    assert verify_records(people_atlas.catalog.db, entries) == []

    # Editing a decision row is found by the audit verification.
    with people_atlas.catalog.db.begin() as conn:
        conn.execute(
            t.case_decisions.update()
            .where(t.case_decisions.c.id == excluded.decision_id)
            .values(conclusion="possible_lead")
        )
    report = people_atlas.audit.verify()
    assert not report.ok
    assert [p.kind for p in report.problems] == ["record_edited"]
    assert report.problems[0].seq == excluded.audit_seq


def test_visibility_follows_membership(people_atlas: Atlas) -> None:
    team = make_team(people_atlas)
    desk = desk_of(people_atlas)
    number = open_case(desk, team)
    for outsider in (team.dave, team.erin):
        with pytest.raises(NotFoundError):
            desk.case(outsider, number)
        with pytest.raises(NotFoundError):
            desk.decisions(outsider, number)
        with pytest.raises(NotFoundError):
            desk.add_member(outsider, number, outsider.username, CaseRole.EXAMINER)
        assert desk.cases(outsider) == []
    # The supervisor of the owner's unit reviews it (and sees everything) without being a
    # member, but does not search or decide.
    assert desk.case(team.carol, number).number == number
    assert [c.number for c in desk.cases(team.carol)] == [number]
    with pytest.raises(PermissionDeniedError):
        desk.require_search(team.carol, number)
    desk.add_member(team.carol, number, "dave", CaseRole.OBSERVER)
    assert desk.case(team.dave, number).number == number
    with pytest.raises(PermissionDeniedError):
        desk.add_member(team.dave, number, "erin", CaseRole.EXAMINER)
    desk.remove_member(team.alice, number, "dave")
    with pytest.raises(NotFoundError):
        desk.case(team.dave, number)
    with pytest.raises(InvalidRequestError):
        desk.remove_member(team.carol, number, "alice")
    actions = [e.action for e in people_atlas.audit.entries(case_number=number)]
    assert actions.count("case_member_removed") == 1 and people_atlas.audit.verify().ok


def test_case_creation_is_validated(people_atlas: Atlas) -> None:
    team = make_team(people_atlas)
    desk = desk_of(people_atlas)
    later = date.today() + timedelta(days=5)
    with pytest.raises(CaseRequiredError):
        desk.open_case(team.alice, "x", PURPOSE, "order", later)
    with pytest.raises(CaseRequiredError):
        desk.open_case(team.alice, "CASE-1", "curiosity", "order", later)
    with pytest.raises(InvalidRequestError, match="legal basis"):
        desk.open_case(team.alice, "CASE-1", PURPOSE, " ", later)
    with pytest.raises(InvalidRequestError, match="past"):
        desk.open_case(team.alice, "CASE-1", PURPOSE, "order", date.today() - timedelta(days=1))
    desk.open_case(team.alice, "CASE-1", PURPOSE, "order", later)
    with pytest.raises(ConflictError):
        desk.open_case(team.bob, "CASE-1", PURPOSE, "order", later)
    with pytest.raises(InvalidRequestError, match=r"missing: .*scars_and_marks"):
        ComparisonForm.parse({k: v for k, v in LEAD_FORM.items() if k != "scars_and_marks"})
    with pytest.raises(InvalidRequestError, match="unknown comparison feature"):
        ComparisonForm.parse(LEAD_FORM | {"tattoo": "similar"})
    with pytest.raises(InvalidRequestError, match="finding for eyes"):
        ComparisonForm.parse(LEAD_FORM | {"eyes": "maybe"})


def test_search_must_be_an_audited_search_of_the_case(
    people_atlas: Atlas, probe_photos: Path
) -> None:
    team = make_team(people_atlas)
    desk = desk_of(people_atlas)
    number = open_case(desk, team)
    other = open_case(desk, team, "2026/OTHER")
    search = audited_search(people_atlas, team.alice, other, probe_photos / "obama1.jpg")
    with pytest.raises(InvalidRequestError, match="not made by alice for case"):
        desk.record_search(team.alice, number, search)
    with pytest.raises(InvalidRequestError, match="not made by bob"):
        desk.record_search(team.bob, other, search)
    desk.record_search(team.alice, other, search)
    with pytest.raises(ConflictError):
        desk.record_search(team.alice, other, search)
    with pytest.raises(PermissionDeniedError):
        desk.require_search(team.vera, number)


def test_closing_applies_retention(people_atlas: Atlas, probe_photos: Path) -> None:
    team = make_team(people_atlas)
    today = datetime.now(UTC)
    desk = desk_of(people_atlas)
    number = open_case(desk, team)
    desk.record_search(
        team.alice,
        number,
        audited_search(people_atlas, team.alice, number, probe_photos / "obama1.jpg"),
    )
    now_due = open_case(desk, team, "2026/DUE")
    desk.record_search(
        team.alice,
        now_due,
        audited_search(people_atlas, team.alice, now_due, probe_photos / "obama1.jpg"),
    )
    # Open cases keep their probes whatever the date.
    assert desk.apply_retention(date.today() + timedelta(days=365)) == 0
    closed = desk.close_case(team.alice, number)
    assert closed.status is CaseStatus.CLOSED and closed.closed_by == "alice"
    assert desk.probes(team.alice, number, with_data=True)[0].data is not None
    with pytest.raises(ConflictError):
        desk.require_search(team.alice, number)
    # On its retention date the scheduled run erases them, once.
    assert desk.apply_retention(date.today() + timedelta(days=29)) == 0
    assert desk.apply_retention(date.today() + timedelta(days=30)) == 1
    assert desk.apply_retention(date.today() + timedelta(days=31)) == 0
    probe = desk.probes(team.alice, number, with_data=True)[0]
    assert probe.data is None and probe.erased_at is not None and len(probe.sha256) == 64
    # A case closed on or after its retention date erases at once.
    late = desk_of(people_atlas, clock=lambda: today + timedelta(days=40))
    late.close_case(team.alice, now_due)
    assert late.probes(team.alice, now_due, with_data=True)[0].data is None
    with people_atlas.catalog.db.connect() as conn:
        kept = conn.execute(sa.select(sa.func.count()).select_from(t.case_probes)).scalar_one()
    assert kept == 2  # the rows and their hashes stay
    actions = [e.action for e in people_atlas.audit.entries()]
    assert actions.count("case_probes_erased") == 2 and actions.count("case_closed") == 2
