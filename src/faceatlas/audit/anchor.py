"""External anchors: signed statements of the audit log's head, kept outside the atlas.

The hash chain shows which rows were edited or deleted, but not a log cut short together
with its head record, or wiped and begun again: the chain of what is left is intact. An
anchor is a line ``{"seq", "hash", "at", "signature"}`` appended to a file the operator
keeps elsewhere (another disk, another machine, a write-once store), signed with an Ed25519
key that never sits in the atlas folder. Verification with the *public* key checks each
anchor's signature, that the log still has entry ``seq``, and that its hash is the anchored
one: a log shorter than an anchor, or one that disagrees with it, fails.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from faceatlas.errors import ConfigError, InvalidRequestError, NotFoundError
from faceatlas.types import record

__all__ = [
    "Anchor",
    "AnchorProblem",
    "check_anchors",
    "generate_key",
    "load_private_key",
    "load_public_key",
    "read_anchors",
    "sign_anchor",
]


@record
class Anchor:
    seq: int
    hash: str
    at: str
    signature: str

    def statement(self) -> bytes:
        return json.dumps(
            {"seq": self.seq, "hash": self.hash, "at": self.at}, sort_keys=True
        ).encode()

    def line(self) -> str:
        return json.dumps(
            {"seq": self.seq, "hash": self.hash, "at": self.at, "signature": self.signature},
            sort_keys=True,
        )


@record
class AnchorProblem:
    line: int
    seq: int
    message: str


def generate_key(private_path: Path, atlas_dir: Path) -> Path:
    """Write a new Ed25519 key (``private_path``, mode 0600) and its public half
    (``<private_path>.pub``); refuse a place inside the atlas folder or an existing file."""
    _outside(private_path, atlas_dir)
    if private_path.exists():
        raise InvalidRequestError(f"{private_path} exists; the key is never overwritten")
    key = Ed25519PrivateKey.generate()
    private_path.parent.mkdir(parents=True, exist_ok=True)
    private_path.touch(mode=0o600)
    private_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public_path = private_path.with_name(private_path.name + ".pub")
    public_path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return public_path


def load_private_key(path: Path, atlas_dir: Path) -> Ed25519PrivateKey:
    _outside(path, atlas_dir)
    key = serialization.load_pem_private_key(_read(path), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 private key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(_read(path))
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path} is not an Ed25519 public key")
    return key


def sign_anchor(key: Ed25519PrivateKey, seq: int, entry_hash: str) -> Anchor:
    at = datetime.now(UTC).isoformat(timespec="seconds")
    unsigned = Anchor(seq, entry_hash, at, "")
    return Anchor(seq, entry_hash, at, key.sign(unsigned.statement()).hex())


def read_anchors(path: Path) -> list[Anchor]:
    anchors: list[Anchor] = []
    for n, text in enumerate(_read(path).decode("utf-8").splitlines(), start=1):
        if not text.strip():
            continue
        try:
            data: dict[str, Any] = json.loads(text)
            anchors.append(
                Anchor(int(data["seq"]), str(data["hash"]), str(data["at"]), str(data["signature"]))
            )
        except (ValueError, KeyError, TypeError):
            raise InvalidRequestError(f"{path}:{n}: not an anchor line") from None
    return anchors


def check_anchors(
    anchors: Sequence[Anchor], public_key: Ed25519PublicKey, hashes: dict[int, str]
) -> list[AnchorProblem]:
    """Problems between ``anchors`` and the log (``hashes``: entry hash by sequence number)."""
    problems: list[AnchorProblem] = []
    for n, anchor in enumerate(anchors, start=1):
        try:
            public_key.verify(bytes.fromhex(anchor.signature), anchor.statement())
        except (InvalidSignature, ValueError):
            problems.append(AnchorProblem(n, anchor.seq, "the anchor's signature is not valid"))
            continue
        found = hashes.get(anchor.seq)
        if found is None:
            problems.append(
                AnchorProblem(
                    n,
                    anchor.seq,
                    f"the log has no entry {anchor.seq}, anchored at {anchor.at}: "
                    "it was cut short or wiped",
                )
            )
        elif found != anchor.hash:
            problems.append(
                AnchorProblem(
                    n,
                    anchor.seq,
                    f"entry {anchor.seq} differs from the one anchored at {anchor.at}: "
                    "the log was rewritten",
                )
            )
    return problems


def _outside(path: Path, atlas_dir: Path) -> None:
    if path.resolve().is_relative_to(atlas_dir.resolve()):
        raise ConfigError(
            f"the anchor key must be kept outside the atlas folder ({atlas_dir}), not at {path}"
        )


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise NotFoundError(f"no file at {path}")
    return path.read_bytes()
