"""Backup and restore on a live atlas: a snapshot taken while a real ingest thread writes, an
opt-out after it, a restore that replays the opt-out (from the atlas it replaces, and from the
privacy journal alone), and backups that were tampered with refused before anything moves."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

from faceatlas import Atlas, Settings
from faceatlas.cli import app
from faceatlas.ingest import IngestProgress, IngestReport
from faceatlas.services.backup import file_digest
from tests.conftest import LAX_SIMILARITY

runner = CliRunner()


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout + result.stderr


def faces_of(atlas: Atlas, folder: str) -> set[int]:
    ids, _, _ = next(atlas.catalog.iter_embeddings(atlas.model_id))
    records = atlas.gallery.faces([int(i) for i in ids])
    return {i for i, r in records.items() if any(f"/{folder}/" in s.locator for s in r.sightings)}


def assert_erased(root: Path, obama: set[int], selfie: np.ndarray, *, search: bytes = b"") -> None:
    """The faces' rows and vectors are gone, the opt-out stands, the audit chain verifies;
    with ``search``, a lax search with that probe finds nothing of the person either."""
    with Atlas.open(settings=Settings(atlas_dir=root)) as atlas:
        assert atlas.gallery.faces(sorted(obama)) == {}
        assert not obama & {h.id for h in atlas.index.search(selfie, len(atlas.index))[0]}
        if search:
            found = atlas.search(search, min_similarity=LAX_SIMILARITY, top_k=50)
            assert found.hits and not [h for h in found.hits if "obama" in str(h.sightings)]
        (request,) = atlas.privacy.optouts()
        assert request.status.value == "completed"
        assert atlas.audit.verify().ok
    code, out = cli("audit", "verify", "--atlas", str(root))
    assert code == 0, out


def test_backup_under_ingest_then_restore_keeps_an_optout(
    people_atlas_dir: Path, tmp_path: Path, lfw_sample: list[Path], probe_photos: Path
) -> None:
    root = tmp_path / "atlas"
    shutil.copytree(people_atlas_dir, root)
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    photos = lfw_sample[:16]
    for path in photos:
        shutil.copy(path, incoming / path.name)
    backups = tmp_path / "backups"
    selfie = (probe_photos / "obama1.jpg").read_bytes()
    settings = Settings(atlas_dir=root, commit_every=2, identity_cluster_on_ingest=False)
    with Atlas.open(settings=settings) as live:
        obama, alex = faces_of(live, "obama"), faces_of(live, "alex_lacamoire")
        assert len(obama) == 2 and alex
        live.privacy.erase_faces(sorted(alex), actor="dpo")  # before the snapshot: stays erased
        started = threading.Event()
        reports: list[IngestReport] = []

        def on_progress(p: IngestProgress) -> None:
            if p.done >= 4:
                started.set()

        ingest = threading.Thread(
            target=lambda: reports.append(live.ingest(incoming, progress=on_progress))
        )
        ingest.start()
        assert started.wait(120)
        code, out = cli("backup", str(backups / "monday"), "--atlas", str(root), "--json")
        still_running = ingest.is_alive()
        ingest.join(120)
        assert code == 0, out
        made = json.loads(out)
        assert still_running and reports and reports[0].counts["new_images"] == len(photos)
        images_after = live.catalog.counts()["images"]
        assert 7 <= made["counts"]["images"] < images_after  # a snapshot from mid-run
        vector = live.gallery.analyze_probe(selfie)[0].embedding.reshape(1, -1)
        request = live.privacy.optout_request([selfie], "subject@example.org")
        receipt = live.privacy.optout_approve(request.id, actor="dpo")
        assert receipt.erased.faces >= len(obama)

    code, out = cli("restore", str(backups / "monday"), "--atlas", str(root))
    assert code == 0, out
    assert "erasures are not undone by a restore" in out
    assert f"optout_erasure optout:{request.id}: erased" in out
    assert "erase_faces" not in out  # made before the snapshot: in it already
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("atlas.before-restore-")]
    assert len(aside) == 1
    with Atlas.open(settings=Settings(atlas_dir=root)) as restored:
        counts = restored.catalog.counts()
        assert counts["images"] == made["counts"]["images"] - 2
        assert counts["faces"] == counts["embeddings"] == len(restored.index)
        assert restored.gallery.faces(sorted(alex)) == {}
    assert_erased(root, obama, vector, search=selfie)

    # the atlas is lost: the privacy journal beside the backups alone replays the opt-out
    code, out = cli(
        "privacy", "journal", str(backups / "privacy-journal.jsonl"), "--atlas", str(root)
    )
    assert code == 0, out
    elsewhere = tmp_path / "rebuilt"
    code, out = cli("restore", str(backups / "monday"), "--atlas", str(elsewhere))
    assert code == 0, out
    assert "the privacy journal" in out and "the atlas it replaces" not in out
    assert_erased(elsewhere, obama, vector)


def test_a_tampered_backup_is_refused_before_anything_moves(
    people_atlas_dir: Path, tmp_path: Path
) -> None:
    root = tmp_path / "atlas"
    shutil.copytree(people_atlas_dir, root)
    with Atlas.open(settings=Settings(atlas_dir=root)) as live:
        ids, _, _ = next(live.catalog.iter_embeddings(live.model_id))
        live.privacy.erase_faces([int(ids[0])], actor="dpo")
    good = tmp_path / "backups" / "good"
    assert cli("backup", str(good), "--atlas", str(root))[0] == 0
    before = sorted(p.name for p in tmp_path.iterdir())

    flipped = tmp_path / "backups" / "flipped"
    shutil.copytree(good, flipped)
    data = bytearray((flipped / "catalog.sqlite3").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (flipped / "catalog.sqlite3").write_bytes(bytes(data))
    code, out = cli("restore", str(flipped), "--atlas", str(root))
    assert code == 25 and "catalog.sqlite3 does not match the manifest" in out

    rewritten = tmp_path / "backups" / "rewritten"  # an audit entry edited, the manifest redone
    shutil.copytree(good, rewritten)
    with sqlite3.connect(rewritten / "catalog.sqlite3") as db:
        db.execute("DROP TRIGGER audit_log_no_update")
        db.execute("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 1")
    manifest = json.loads((rewritten / "manifest.json").read_text())
    for entry in manifest["files"]:
        if entry["path"] == "catalog.sqlite3":
            found = file_digest(rewritten / "catalog.sqlite3")
            entry.update(bytes=found.bytes, sha256=found.sha256)
    (rewritten / "manifest.json").write_text(json.dumps(manifest))
    code, out = cli("restore", str(rewritten), "--atlas", str(root))
    assert code == 25 and "the backup's audit chain does not verify" in out

    other = tmp_path / "other"  # an atlas that did not grow from this backup
    shutil.copytree(people_atlas_dir, other)
    code, out = cli("restore", str(good), "--atlas", str(other))
    assert code == 22 and "did not grow from this backup" in out
    shutil.rmtree(other)

    (good / "extra.txt").write_text("planted")
    code, out = cli("restore", str(good), "--atlas", str(root))
    assert code == 25 and "files not in the manifest: extra.txt" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing moved or staged
    code, out = cli("audit", "verify", "--atlas", str(root))
    assert code == 0, out
