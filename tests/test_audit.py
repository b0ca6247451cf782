"""The audit log's hash chain: tampering with the database is reported entry by entry."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from faceatlas import Atlas, Settings
from faceatlas.audit import AuditEvent
from faceatlas.cli import app

runner = CliRunner()


@pytest.fixture
def audited_atlas(tmp_path: Path) -> Path:
    root = tmp_path / "atlas"
    with Atlas.open(settings=Settings(atlas_dir=root)) as atlas:
        for i in range(1, 8):
            atlas.audit.append(
                AuditEvent(
                    actor="ivy",
                    actor_role="investigator",
                    actor_unit="unit-a",
                    action="search",
                    case_number=f"C-{i:03d}",
                    purpose="missing person",
                    details={"probe_sha256": f"{i:064x}", "result_face_ids": [i, i + 1]},
                )
            )
    return root


def _db(root: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(root / "catalog.sqlite3")
    # An attacker with file access drops the append-only guards first.
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("DROP TRIGGER audit_log_no_delete")
    return conn


def verify(root: Path) -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "verify", "--atlas", str(root)])
    return result.exit_code, result.output


def test_intact_log_verifies(audited_atlas: Path) -> None:
    code, out = verify(audited_atlas)
    assert code == 0, out
    assert "audit log OK: 7 entries" in out


def test_triggers_refuse_edits_and_deletes(audited_atlas: Path) -> None:
    conn = sqlite3.connect(audited_atlas / "catalog.sqlite3")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit_log SET case_number = 'X' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit_log WHERE seq = 1")


def test_edited_row_is_reported_exactly(audited_atlas: Path) -> None:
    conn = _db(audited_atlas)
    conn.execute("UPDATE audit_log SET case_number = 'C-999' WHERE seq = 4")
    conn.commit()
    code, out = verify(audited_atlas)
    assert code == 24
    lines = [line for line in out.splitlines() if line.startswith("entry ")]
    assert lines == ["entry 4: edited: entry 4 edited: its content no longer matches its hash"]


def test_edited_and_rehashed_row_is_reported_exactly(audited_atlas: Path) -> None:
    from faceatlas.audit.log import _body, _hash

    conn = _db(audited_atlas)
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM audit_log WHERE seq = 3").fetchone())
    row["details"] = json.dumps({"probe_sha256": "0" * 64, "result_face_ids": []})
    new_hash = _hash(row["prev_hash"], _body(3, row["at"], row, row["details"]))
    conn.execute(
        "UPDATE audit_log SET details = ?, entry_hash = ? WHERE seq = 3", (row["details"], new_hash)
    )
    conn.commit()
    code, out = verify(audited_atlas)
    assert code == 24
    assert [line for line in out.splitlines() if line.startswith("entry ")] == [
        "entry 3: edited: entry 3 edited and re-hashed: entry 4 no longer links to it"
    ]


def test_deleted_rows_are_reported_exactly(audited_atlas: Path) -> None:
    conn = _db(audited_atlas)
    conn.execute("DELETE FROM audit_log WHERE seq = 5")
    conn.commit()
    code, out = verify(audited_atlas)
    assert code == 24
    assert [line for line in out.splitlines() if line.startswith("entry ")] == [
        "entry 5: deleted: entry 5 deleted"
    ]
    conn.execute("DELETE FROM audit_log WHERE seq = 7")
    conn.commit()
    _, out = verify(audited_atlas)
    assert "entry 7: truncated: entries 7-7 deleted from the end of the log" in out


@pytest.mark.parametrize("seq", [-5, 0])
def test_a_row_inserted_outside_the_chain_is_read_and_reported_alike(
    audited_atlas: Path, seq: int
) -> None:
    """A forged search entry (say, one that would let an investigator open a face) with a
    sequence number below the chain: the readers see it, so verification must too."""
    conn = sqlite3.connect(audited_atlas / "catalog.sqlite3")
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM audit_log WHERE seq = 2").fetchone())
    row.update(seq=seq, details=json.dumps({"result_face_ids": [99]}))
    columns = ", ".join(row)
    conn.execute(
        f"INSERT INTO audit_log ({columns}) VALUES ({', '.join('?' * len(row))})",
        tuple(row.values()),
    )
    conn.commit()
    with Atlas.open(settings=Settings(atlas_dir=audited_atlas)) as atlas:
        read = [e.seq for e in atlas.audit.entries(action="search", limit=100)]
        exported = [e.seq for e in atlas.audit.iter_all()]
        report = atlas.audit.verify()
    assert seq in read and seq in exported
    assert not report.ok
    assert [(p.seq, p.kind) for p in report.problems] == [(seq, "forged")]
    code, out = verify(audited_atlas)
    assert code == 24 and f"entry {seq}: forged" in out


def test_export_writes_csv_and_json_with_hashes(audited_atlas: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "export"
    result = runner.invoke(app, ["audit", "export", str(out_dir), "--atlas", str(audited_atlas)])
    assert result.exit_code == 0, result.output
    lines = (out_dir / "audit.csv").read_text().splitlines()
    assert lines[0].split(",")[:3] == ["seq", "at", "actor"]
    assert len(lines) == 8
    data = json.loads((out_dir / "audit.json").read_text())
    assert data["verification"]["ok"] is True
    assert [e["seq"] for e in data["entries"]] == list(range(1, 8))
    assert data["entries"][1]["prev_hash"] == data["entries"][0]["entry_hash"]


def test_users_cli_creates_admin_with_one_time_password(tmp_path: Path) -> None:
    root = tmp_path / "atlas"
    result = runner.invoke(app, ["users", "create-admin", "boss", "--atlas", str(root)])
    assert result.exit_code == 0, result.output
    assert "One-time password for boss" in result.output
    result = runner.invoke(app, ["users", "list", "--json", "--atlas", str(root)])
    assert json.loads(result.output) == [
        {"username": "boss", "role": "admin", "unit": "", "active": True}
    ]
    with Atlas.open(settings=Settings(atlas_dir=root)) as atlas:
        assert atlas.accounts.bootstrap_admin() is None  # users exist: no second admin
        assert atlas.accounts.by_name("boss").must_change_password


def _anchor(root: Path, key: Path, anchors: Path) -> None:
    result = runner.invoke(
        app, ["audit", "anchor", "--key", str(key), "--to", str(anchors), "--atlas", str(root)]
    )
    assert result.exit_code == 0, result.output


def _verify_anchored(root: Path, anchors: Path, key: Path) -> tuple[int, str]:
    result = runner.invoke(
        app,
        ["audit", "verify", "--atlas", str(root), "--anchor", str(anchors),
         "--public-key", f"{key}.pub"],
    )  # fmt: skip
    return result.exit_code, result.output


def _set_head(conn: sqlite3.Connection, seq: int) -> None:
    """What an attacker does after cutting the log: point the head at what is left."""
    row = conn.execute("SELECT entry_hash FROM audit_log WHERE seq = ?", (seq,)).fetchone()
    head = json.dumps({"seq": seq, "hash": row[0]})
    conn.execute("UPDATE atlas_meta SET value = ? WHERE key = 'audit_head'", (head,))
    conn.commit()


def test_anchor_key_never_sits_in_the_atlas(audited_atlas: Path) -> None:
    inside = runner.invoke(
        app, ["audit", "keygen", str(audited_atlas / "anchor.key"), "--atlas", str(audited_atlas)]
    )
    assert inside.exit_code != 0 and "outside the atlas" in inside.output


@pytest.mark.parametrize("attack", ["tail deleted", "truncated with its head", "wiped and reset"])
def test_anchors_catch_what_the_chain_cannot(
    audited_atlas: Path, tmp_path: Path, attack: str
) -> None:
    key, anchors = tmp_path / "keys" / "anchor.key", tmp_path / "elsewhere" / "anchors.jsonl"
    made = runner.invoke(app, ["audit", "keygen", str(key), "--atlas", str(audited_atlas)])
    assert made.exit_code == 0, made.output
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    _anchor(audited_atlas, key, anchors)  # entry 7 is anchored
    assert _verify_anchored(audited_atlas, anchors, key)[0] == 0
    conn = _db(audited_atlas)
    if attack == "tail deleted":
        conn.execute("DELETE FROM audit_log WHERE seq = 7")
        _set_head(conn, 6)
    elif attack == "truncated with its head":
        conn.execute("DELETE FROM audit_log WHERE seq > 3")
        _set_head(conn, 3)
    else:
        conn.execute("DELETE FROM audit_log")
        conn.execute("DELETE FROM atlas_meta WHERE key = 'audit_head'")
        conn.commit()
        with Atlas.open(settings=Settings(atlas_dir=audited_atlas)) as atlas:
            for i in range(9):  # a new, self-consistent log, longer than the old one
                atlas.audit.append(
                    AuditEvent(actor="mallory", actor_role="admin", actor_unit="hq", action="login", details={"i": i})
                )  # fmt: skip
    code, out = verify(audited_atlas)
    assert code == 0, "the hash chain alone cannot see this"
    code, out = _verify_anchored(audited_atlas, anchors, key)
    assert code == 24
    assert "anchor line 1 (entry 7)" in out
    assert ("cut short or wiped" in out) or ("was rewritten" in out)


def test_a_forged_anchor_is_refused(audited_atlas: Path, tmp_path: Path) -> None:
    key, anchors = tmp_path / "anchor.key", tmp_path / "anchors.jsonl"
    assert (
        runner.invoke(app, ["audit", "keygen", str(key), "--atlas", str(audited_atlas)]).exit_code
        == 0
    )
    _anchor(audited_atlas, key, anchors)
    data = json.loads(anchors.read_text())
    data["seq"] = 3  # moved to an entry the attacker kept
    anchors.write_text(json.dumps(data) + "\n")
    code, out = _verify_anchored(audited_atlas, anchors, key)
    assert code == 24 and "signature is not valid" in out
