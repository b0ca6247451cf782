"""Rules every front end shares, checked once in the services (no HTTP, no atlas)."""

from __future__ import annotations

import pytest

from faceatlas import Settings
from faceatlas.accounts import Role, User
from faceatlas.errors import (
    CaseRequiredError,
    ImageTooLargeError,
    InvalidRequestError,
    PermissionDeniedError,
)
from faceatlas.services import check_self_change, local_operator
from faceatlas.services.accounts import audit_role
from faceatlas.services.search import MAX_TOP_K, CaseRule, check_upload, resolve_top_k


def admin(user_id: int = 7) -> User:
    return User(user_id, "ada", Role.ADMIN, "hq", True, False, "2026-01-01T00:00:00")


def test_admins_cannot_demote_or_deactivate_themselves() -> None:
    me = admin()
    for role, active in ((Role.SUPERVISOR, None), (Role.INVESTIGATOR, None), (None, False)):
        with pytest.raises(PermissionDeniedError, match="demote or deactivate themselves"):
            check_self_change(me, me.id, role=role, active=active)
    check_self_change(me, me.id, role=Role.ADMIN, active=True)  # no change: allowed
    check_self_change(me, me.id, role=None, active=None)  # a unit change only
    check_self_change(me, 8, role=Role.INVESTIGATOR, active=False)  # another admin's account


def test_local_operator_is_admin_level_and_audited_as_operator() -> None:
    op = local_operator("dpo")
    assert op.username == "cli:dpo" and op.role is Role.ADMIN and op.id == 0
    assert audit_role(op) == "operator"
    assert audit_role(admin()) == "admin"


def test_case_rule_and_bounds() -> None:
    settings = Settings()
    rule = CaseRule(settings)
    purpose = settings.search_purposes[0]
    assert rule.check("  CASE-1  ", f" {purpose} ") == ("CASE-1", purpose)
    for case, why in (("", purpose), ("x", purpose), ("CASE-1", ""), ("CASE-1", "curiosity")):
        with pytest.raises(CaseRequiredError):
            rule.check(case, why)
    with pytest.raises(CaseRequiredError, match="privacy action needs a case reference"):
        rule.case_ref(" ")
    assert resolve_top_k(settings, None) == settings.top_k
    assert resolve_top_k(settings, MAX_TOP_K) == MAX_TOP_K
    for bad in (0, MAX_TOP_K + 1):
        with pytest.raises(InvalidRequestError):
            resolve_top_k(settings, bad)
    check_upload(settings, b"x" * settings.max_upload_bytes)
    with pytest.raises(ImageTooLargeError):
        check_upload(settings, b"x" * (settings.max_upload_bytes + 1))
