"""Watchlists bound to cases, with real photos, a real SQLite atlas and a real webhook receiver
on 127.0.0.1: an approved entry raises exactly the expected alert when new photos of its person
are ingested (a pending entry for the same person raises none), the webhook arrives signed
with the configured secret, the alert is in the audit log under the case; once the entry has
expired (an injected clock, no sleeping) new photos of the person raise nothing and the entry's
probe embedding is gone."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from faceatlas import Atlas
from faceatlas.choices import EngineName
from faceatlas.errors import (
    ConflictError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
)
from faceatlas.services import Service
from faceatlas.services.watchlists import EntryStatus, WatchlistDesk, WatchRequest
from faceatlas.store.schema_watchlists import watchlist_templates
from tests.conftest import atlas_settings
from tests.watchkit import MovableClock, Receiver
from tests.webkit import People, make_people

SECRET = "webhook-secret-for-tests-2026"
CASE = "2026/WATCH-1"


@dataclass
class Env:
    atlas: Atlas
    service: Service
    desk: WatchlistDesk
    people: People
    clock: MovableClock
    receiver: Receiver
    faces: Path
    tmp: Path

    def folder(self, name: str, *photos: Path) -> Path:
        folder = self.tmp / name
        folder.mkdir()
        for p in photos:
            shutil.copy(p, folder / p.name)
        return folder


@pytest.fixture(scope="module")
def people_dir(
    people_atlas_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, People]:
    """The known-people atlas with the test accounts, made once for the module. Copy it."""
    root = tmp_path_factory.mktemp("watch-people") / "atlas"
    shutil.copytree(people_atlas_dir, root)
    with Atlas.open(settings=atlas_settings(root)) as atlas:
        return root, make_people(atlas)


@pytest.fixture
def env(people_dir: tuple[Path, People], tmp_path: Path, faces_dir: Path) -> Iterator[Env]:
    root = tmp_path / "atlas"
    shutil.copytree(people_dir[0], root)
    people = people_dir[1]
    with Receiver() as receiver:
        settings = atlas_settings(
            root, watchlist_webhook_url=receiver.url, watchlist_webhook_secret=SECRET
        )
        with Atlas.open(settings=settings) as atlas:
            clock = MovableClock()
            atlas.watchlists.clock = clock
            service = Service(atlas)
            service.casework.open(people.investigator, CASE, "missing person", "court order 17")
            yield Env(
                atlas, service, WatchlistDesk(service), people, clock, receiver, faces_dir, tmp_path
            )


def templates_of(atlas: Atlas, entry_id: int) -> int:
    with atlas.catalog.db.connect() as conn:
        return int(
            conn.execute(
                sa.select(sa.func.count())
                .select_from(watchlist_templates)
                .where(watchlist_templates.c.entry_id == entry_id)
            ).scalar_one()
        )


def test_an_approved_entry_alerts_once_signed_and_stops_after_expiry(env: Env) -> None:
    examples = env.faces / "face_recognition" / "examples"
    probe = (examples / "knn_examples" / "test" / "obama1.jpg").read_bytes()
    ivy, sam = env.people.investigator, env.people.supervisor
    entry = env.desk.add_photo(ivy, probe, WatchRequest(CASE, 7, "the man in the blue suit"))
    pending = env.desk.add_photo(ivy, probe, WatchRequest(CASE, 7, "never approved"))
    assert entry.status is EntryStatus.PENDING and entry.has_template

    with pytest.raises(PermissionDeniedError):  # an investigator does not approve
        env.desk.approve(ivy, entry.id)
    with pytest.raises(NotFoundError):  # to another unit the case does not exist
        env.desk.approve(env.people.other_unit, entry.id)
    with pytest.raises(InvalidRequestError):  # at most watchlist_max_days (30)
        env.desk.approve(sam, entry.id, days=31)
    approved = env.desk.approve(sam, entry.id)
    assert approved.status is EntryStatus.ACTIVE and approved.approved_by == sam.username
    with pytest.raises(ConflictError):
        env.desk.approve(sam, entry.id)

    new = env.folder(
        "new",
        env.faces / "face_recognition" / "test_images" / "obama3.jpg",
        env.faces / "lfw" / "images" / "Colin_Powell" / "Colin_Powell_0001.jpg",
    )
    report = env.atlas.ingest(new)
    assert report.counts["faces"] == 2

    alerts = env.desk.alerts(sam)
    assert [a.entry_id for a in alerts] == [entry.id]  # the pending entry raised nothing
    alert = alerts[0]
    face = env.atlas.gallery.face(alert.face_id)
    assert face.sightings[0].locator.endswith("obama3.jpg")
    assert alert.score >= alert.threshold >= env.atlas.threshold()[0]

    posts = env.receiver.wait_for(1)
    env.atlas.watchlists.webhook.join(10)
    assert len(posts) == 1
    post = posts[0]
    expected = "sha256=" + hmac.new(SECRET.encode(), post.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(post.headers["X-FaceAtlas-Signature"], expected)
    body = json.loads(post.body)
    assert body["alert_id"] == alert.id and body["case_number"] == CASE
    assert body["image_sha256"] == face.image.sha256
    assert "vector" not in post.body.decode() and "embedding" not in post.body.decode()
    assert env.desk.alerts(sam)[0].delivery.value == "delivered"

    logged = env.atlas.audit.entries(action="watchlist_alert", case_number=CASE)
    assert [e.details["alert_id"] for e in logged] == [alert.id]
    assert logged[0].seq == alert.audit_seq and env.atlas.audit.verify().ok

    # eight days later the seven-day entry has expired: no alert, and its template is gone
    env.clock.advance(days=8)
    later = env.folder("later", env.faces / "face_recognition" / "examples" / "obama-480p.jpg")
    assert env.atlas.ingest(later).counts["faces"] == 1
    assert [a.id for a in env.desk.alerts(sam)] == [alert.id]
    ended = env.desk.entry(sam, entry.id)
    assert ended.status is EntryStatus.ENDED and ended.ended_reason is not None
    assert ended.ended_reason.value == "expired" and not ended.has_template
    assert templates_of(env.atlas, entry.id) == 0
    assert templates_of(env.atlas, pending.id) == 1  # still pending, still matches nothing
    with pytest.raises(ConflictError):
        env.desk.renew(sam, entry.id, 7)
    assert len(env.receiver.posts) == 1


def test_renewal_deletion_and_a_closed_case_purge_entries(env: Env) -> None:
    probe = env.faces / "face_recognition" / "examples" / "knn_examples" / "test" / "obama1.jpg"
    ivy, sam = env.people.investigator, env.people.supervisor
    first = env.desk.add_photo(ivy, probe.read_bytes(), WatchRequest(CASE, 3))
    second = env.desk.add_photo(ivy, probe.read_bytes(), WatchRequest(CASE, 3))
    env.desk.approve(sam, first.id)
    env.service.casework.add_member(ivy, CASE, sam.username, "examiner")
    own = env.desk.add_photo(sam, probe.read_bytes(), WatchRequest(CASE, 3))
    with pytest.raises(PermissionDeniedError, match="second person"):
        env.desk.approve(sam, own.id)
    env.clock.advance(days=2)
    renewed = env.desk.renew(sam, first.id, 30)
    assert renewed.renewed_by == sam.username and renewed.expires_at is not None
    assert renewed.expires_at > (first.expires_at or renewed.requested_at)
    with pytest.raises(NotFoundError):  # the other unit's investigator cannot delete
        env.desk.delete(env.people.other_unit, second.id)
    identity = env.atlas.identities.list_identities(min_faces=1, limit=1)[0].id
    watched = env.desk.add_identity(sam, identity, WatchRequest(CASE, 3, "an identity"))
    assert watched.identity_id == identity and watched.has_template

    # the person opts out: new photos of them are never stored, so never matched
    selfie = env.faces / "face_recognition" / "examples" / "obama-240p.jpg"
    request = env.atlas.privacy.optout_request([selfie.read_bytes()], "o@example.org")
    env.atlas.privacy.optout_approve(request.id, actor="admin")
    new = env.folder("new", env.faces / "face_recognition" / "test_images" / "obama3.jpg")
    assert env.atlas.ingest(new).counts["blocked_faces"] == 1
    assert env.desk.alerts(sam) == []
    deleted = env.desk.delete(ivy, second.id)
    assert deleted.status is EntryStatus.ENDED and templates_of(env.atlas, second.id) == 0
    env.service.casework.close(ivy, CASE)
    assert env.desk.sweep() == 3  # the active entry and sam's two pending ones
    gone = env.desk.entry(ivy, first.id)
    assert gone.ended_reason is not None and gone.ended_reason.value == "case_closed"
    assert templates_of(env.atlas, first.id) == 0
    with pytest.raises(NotFoundError):
        env.desk.entry(env.people.other_unit, first.id)
    reasons = [e.details["reason"] for e in env.atlas.audit.entries(action="watchlist_entry_ended")]
    assert sorted(reasons) == ["case_closed"] * 3 + ["deleted"]


def test_reembedding_with_another_model_ends_the_entries_it_left_behind(env: Env) -> None:
    probe = env.faces / "face_recognition" / "examples" / "knn_examples" / "test" / "obama1.jpg"
    ivy, sam = env.people.investigator, env.people.supervisor
    entry = env.desk.add_photo(ivy, probe.read_bytes(), WatchRequest(CASE, 3))
    env.desk.approve(sam, entry.id)
    dlib = atlas_settings(env.atlas.settings.atlas_dir, engine=EngineName.DLIB)
    assert Atlas.reembed(settings=dlib).complete
    with Atlas.open(settings=dlib) as atlas:
        assert atlas.model_id != entry.model_id
        desk = WatchlistDesk(Service(atlas))
        (ended,) = desk.entries(ivy)  # listing sweeps first
        assert ended.status is EntryStatus.ENDED and not ended.has_template
        assert ended.ended_reason is not None and ended.ended_reason.value == "model_changed"
        assert templates_of(atlas, entry.id) == 0
        log = atlas.audit.entries(action="watchlist_entry_ended")
        assert [e.details["reason"] for e in log] == ["model_changed"]
        assert atlas.audit.verify().ok


def test_a_failing_webhook_is_retried_a_bounded_number_of_times_and_recorded(env: Env) -> None:
    probe = env.faces / "face_recognition" / "examples" / "knn_examples" / "test" / "obama1.jpg"
    entry = env.desk.add_photo(env.people.investigator, probe.read_bytes(), WatchRequest(CASE, 2))
    env.desk.approve(env.people.supervisor, entry.id)
    env.receiver.status = 503
    env.atlas.watchlists.webhook.retries = 1
    new = env.folder("new", env.faces / "face_recognition" / "test_images" / "obama3.jpg")
    env.atlas.ingest(new)  # returns while the deliveries are still being tried
    env.atlas.watchlists.webhook.join(30)
    (alert,) = env.desk.alerts(env.people.supervisor)
    assert (alert.delivery.value, alert.attempts, alert.last_error) == ("failed", 2, "HTTP 503")
    assert len(env.receiver.posts) == 2
    assert env.atlas.audit.entries(action="watchlist_alert")[0].details["alert_id"] == alert.id
