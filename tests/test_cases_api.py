"""Cases through REST with real photos: open a case, search twice, record decisions, a second
examiner verifies one blind; self-verification is refused; an outsider gets 404 on every
record of the case; the audit log verifies, and fails once a decision row is edited."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from faceatlas import Atlas, Settings
from faceatlas.accounts import Role, TokenKind
from faceatlas.cases import Feature
from faceatlas.server import create_app
from faceatlas.store import schema_cases as t
from tests.conftest import LEAD_SIMILARITY
from tests.webkit import PASSWORD, People, make_people

PURPOSE = "missing person"
NUMBER = "2026/REST-9"
LEAD_FORM = {f.value: "similar" for f in Feature} | {"ears": "not_visible"}
EXCLUDED_FORM = {f.value: "dissimilar" for f in Feature}


@dataclass
class Env:
    client: TestClient
    atlas: Atlas
    people: People
    probes: Path

    def auth(self, who: str) -> dict[str, str]:
        return self.people.auth(who)

    def get(self, who: str, path: str, **kwargs: Any) -> Any:
        return self.client.get(f"/api/v1/cases{path}", headers=self.auth(who), **kwargs)

    def post(self, who: str, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(f"/api/v1/cases{path}", headers=self.auth(who), json=body)

    def search(self, who: str, photo: str, case_number: str = NUMBER) -> Any:
        return self.client.post(
            "/api/v1/search",
            files={"image": ("p.jpg", (self.probes / photo).read_bytes())},
            data={
                "case_number": case_number,
                "purpose": PURPOSE,
                "threshold": str(LEAD_SIMILARITY),
            },
            headers=self.auth(who),
        )


@pytest.fixture
def env(pages_atlas_dir: Path, tmp_path: Path, probe_photos: Path) -> Iterator[Env]:
    root = tmp_path / "atlas"
    shutil.copytree(pages_atlas_dir, root)
    with Atlas.open(settings=Settings(atlas_dir=root)) as atlas:
        people = make_people(atlas)
        eve, _ = atlas.accounts.create_user(
            "eve.examiner", Role.INVESTIGATOR, unit="unit-a", password=PASSWORD
        )
        people.tokens["examiner"] = atlas.accounts.issue(eve, TokenKind.API, 3600).secret
        with TestClient(create_app(atlas=atlas)) as client:
            yield Env(client, atlas, people, probe_photos)


def code_of(response: Any) -> str:
    body = response.json()
    assert set(body) == {"error"} and body["error"]["status"] == response.status_code
    return str(body["error"]["code"])


def test_case_flow_through_rest(env: Env) -> None:
    retention = (date.today() + timedelta(days=60)).isoformat()
    r = env.post(
        "investigator",
        "",
        {
            "number": NUMBER,
            "purpose": PURPOSE,
            "legal_basis": "court order 7/2026",
            "retention_until": retention,
        },
    )
    assert r.status_code == 201, r.text
    case_id = r.json()["id"]
    assert r.json()["owner"] == "ivy.investigator" and r.json()["retention_until"] == retention
    assert code_of(env.post("examiner", "", {**r.json(), "legal_basis": "x"})) == "conflict"
    r = env.post(
        "investigator", f"/{case_id}/members", {"username": "eve.examiner", "role": "examiner"}
    )
    assert r.status_code == 200 and r.json()["role"] == "examiner"

    # Two searches with real photos, by the owner and the examiner, recorded into the case.
    first = env.search("investigator", "obama1.jpg")
    assert first.status_code == 200, first.text
    second = env.search("examiner", "alex_lacamoire1.jpg")
    assert second.status_code == 200, second.text
    case = env.get("investigator", f"/{case_id}").json()
    assert [s["audit_seq"] for s in case["searches"]] == [
        first.json()["search_id"],
        second.json()["search_id"],
    ]
    assert len(case["probes"]) == 2 and all(len(p["sha256"]) == 64 for p in case["probes"])
    by_search = {
        s["id"]: [c for c in case["candidates"] if c["search_id"] == s["id"]]
        for s in case["searches"]
    }
    obama, alex = (by_search[s["id"]][0] for s in case["searches"])
    assert obama["face_id"] == first.json()["hits"][0]["face_id"]
    assert obama["similarity"] == pytest.approx(first.json()["hits"][0]["similarity"], abs=1e-4)

    # Decisions: the owner's possible lead, the examiner's exclusion.
    r = env.post(
        "investigator",
        f"/candidates/{obama['id']}/decision",
        {"conclusion": "possible_lead", "features": LEAD_FORM, "reason": "nose and brows alike"},
    )
    assert r.status_code == 201, r.text
    lead = r.json()
    assert lead["status"] == "awaiting_verification" and lead["conclusion"] == "possible_lead"
    r = env.post(
        "examiner",
        f"/candidates/{alex['id']}/decision",
        {"conclusion": "excluded", "features": EXCLUDED_FORM, "reason": "different face shape"},
    )
    assert r.status_code == 201, r.text
    excluded = r.json()
    bad = {"conclusion": "excluded", "features": LEAD_FORM, "reason": "x"}
    assert env.post("examiner", f"/candidates/{obama['id']}/decision", bad).status_code == 400

    # Blind: the examiner sees the lead sealed, and a task without the first conclusion.
    sealed = next(
        d
        for d in env.get("examiner", f"/{case_id}").json()["decisions"]
        if d["decision_id"] == lead["decision_id"]
    )
    assert sealed["sealed"] and sealed["conclusion"] is None and sealed["reason"] is None
    task = env.get("examiner", f"/decisions/{lead['decision_id']}/verification-task")
    assert task.status_code == 200 and "conclusion" not in task.json()
    assert task.json()["examiner"] == "ivy.investigator"

    # Self-verification is refused; the second examiner verifies.
    verdict = {"conclusion": "possible_lead", "features": LEAD_FORM, "reason": "agree"}
    r = env.post("investigator", f"/decisions/{lead['decision_id']}/verify", verdict)
    assert r.status_code == 403 and code_of(r) == "self_verification"
    r = env.get("investigator", f"/decisions/{lead['decision_id']}/verification-task")
    assert r.status_code == 403 and code_of(r) == "self_verification"
    r = env.post("examiner", f"/decisions/{lead['decision_id']}/verify", verdict)
    assert r.status_code == 201, r.text
    assert r.json()["verified_lead"] and r.json()["verifications"][0]["verifier"] == "eve.examiner"
    assert (
        code_of(env.post("examiner", f"/decisions/{lead['decision_id']}/verify", verdict))
        == "conflict"
    )

    # Side by side: both crops, landmarks, quality, scores and sources.
    r = env.get("examiner", f"/candidates/{obama['id']}/comparison")
    assert r.status_code == 200, r.text
    comparison = r.json()
    for side in ("probe", "face"):
        face = comparison[side]
        assert face["image"].startswith("data:image/jpeg;base64,")
        assert len(face["landmarks"]) == 5 and face["quality"]["box_px"] > 0
    assert comparison["probe"]["cut_from"] == "probe"
    assert comparison["face"]["cut_from"] == "thumbnail"  # web sources: no local image
    assert comparison["candidate"]["estimated_fmr"] == obama["estimated_fmr"]
    assert comparison["sightings"][0]["page_url"].startswith("https://example.org/people/")

    # An outsider: every record of the case is not found, and the case is not listed.
    refs = [
        ("get", f"/{case_id}", None),
        ("get", f"/{case_id}/report.pdf", None),
        ("get", f"/{case_id}/report.html", None),
        ("post", f"/{case_id}/members", {"username": "olly.other", "role": "examiner"}),
        ("post", f"/{case_id}/close", {}),
        ("get", f"/candidates/{obama['id']}/comparison", None),
        ("post", f"/candidates/{obama['id']}/decision", bad),
        ("get", f"/decisions/{excluded['decision_id']}/verification-task", None),
        ("post", f"/decisions/{excluded['decision_id']}/verify", verdict),
    ]
    for method, path, body in refs:
        r = env.get("other_unit", path) if method == "get" else env.post("other_unit", path, body)
        assert r.status_code == 404 and code_of(r) == "not_found", (path, r.text)
    assert env.get("other_unit", "").json()["cases"] == []
    assert (
        env.get("investigator", "", params={"number": NUMBER}).json()["cases"][0]["id"] == case_id
    )
    r = env.search("other_unit", "obama1.jpg")
    assert r.status_code == 404 and code_of(r) == "not_found"

    # The supervisor of the owner's unit exports the report.
    r = env.get("supervisor", f"/{case_id}/report.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert NUMBER in text and "ivy.investigator" in text
    r = env.get("supervisor", f"/{case_id}/report.html")
    assert r.status_code == 200 and NUMBER in r.text and "<script src" not in r.text

    # The audit chain holds every step, and finds an edited decision row.
    assert env.atlas.audit.verify().ok
    with env.atlas.catalog.db.begin() as conn:
        conn.execute(
            t.case_decisions.update()
            .where(t.case_decisions.c.id == excluded["decision_id"])
            .values(reason="edited afterwards")
        )
    report = env.atlas.audit.verify()
    assert not report.ok and [p.kind for p in report.problems] == ["record_edited"]


def test_a_search_opens_its_case_and_closing_stops_searches(env: Env) -> None:
    assert env.search("investigator", "obama1.jpg", "2026-0999").status_code == 200
    found = env.get("investigator", "", params={"number": "2026-0999"}).json()["cases"]
    assert found[0]["owner"] == "ivy.investigator"
    assert found[0]["legal_basis"] == "not stated (opened by a search)"
    r = env.post("investigator", f"/{found[0]['id']}/close", {"erase_probes": True})
    assert r.status_code == 200 and r.json()["status"] == "closed"
    r = env.search("investigator", "obama1.jpg", "2026-0999")
    assert r.status_code == 409 and code_of(r) == "conflict"
    case = env.get("investigator", f"/{found[0]['id']}").json()
    assert case["probes"][0]["erased_at"] is not None
