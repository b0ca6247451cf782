"""API fuzzing: requests generated from the OpenAPI schema, as each role, against the live app.

No answer may be a server error, every answer must match the schema the route documents, and
every error must have the one error shape. Each case gets fresh credentials: the generated
requests revoke tokens, deactivate users and reset passwords as they go.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import schemathesis.specs.openapi.checks
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS

from faceatlas import Atlas, Settings
from faceatlas.accounts import Role, User
from faceatlas.accounts.service import TokenKind
from faceatlas.server import create_app
from tests.webkit import PASSWORD, People, make_people

EXAMPLES = 12
"""Generated requests per operation and role (about 45 operations, three roles)."""
CHECK_NAMES = ("not_a_server_error", "response_schema_conformance", "content_type_conformance")


def error_shape(ctx: object, response: Any, case: Any) -> bool | None:
    """Every error answer is ``{"error": {"code", "message", "status"}}`` with that status."""
    if response.status_code < 400:
        return None
    body = json.loads(response.content)
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "status"}, body
    assert body["error"]["status"] == response.status_code, body
    return True


@pytest.fixture(scope="module")
def live(pages_atlas_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    root = tmp_path_factory.mktemp("fuzz") / "atlas"
    shutil.copytree(pages_atlas_dir, root)
    with Atlas.open(settings=Settings(atlas_dir=root, max_upload_bytes=1_000_000)) as atlas:
        people = make_people(atlas)
        app = create_app(atlas=atlas)
        with TestClient(app):
            yield atlas, people, schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)


def _fresh_auth(atlas: Atlas, user: User, role: Role) -> dict[str, str]:
    accounts = atlas.accounts
    current = accounts.get(user.id)
    if not current.active or current.role is not role:
        accounts.update_user(user.id, active=True, role=role)
    if accounts.get(user.id).must_change_password:
        accounts.set_password(user.id, PASSWORD)
    token = accounts.issue(accounts.get(user.id), TokenKind.API, 3600, name="fuzz").secret
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.slow
@pytest.mark.parametrize("who", ["investigator", "supervisor", "admin"])
def test_generated_requests_never_break_the_api(live: Any, who: str) -> None:
    atlas, people, schema = live
    assert isinstance(people, People)
    user, role = {
        "investigator": (people.investigator, Role.INVESTIGATOR),
        "supervisor": (people.supervisor, Role.SUPERVISOR),
        "admin": (people.admin, Role.ADMIN),
    }[who]
    by_name = {f.__name__: f for f in CHECKS.get_all()}
    checks = [by_name[n] for n in CHECK_NAMES]
    failures: dict[str, str] = {}
    answered = [0]

    def fuzz(operation: Any) -> None:
        name = f"{operation.method.upper()} {operation.path}"

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            response = case.call(headers=_fresh_auth(atlas, user, role))
            answered[0] += 1
            try:
                case.validate_response(response, checks=checks)
                error_shape(None, response, case)
            except Exception as exc:  # every kind of failure is collected per operation
                failures.setdefault(name, str(exc)[:500])

        run()

    for result in schema.get_all_operations():
        fuzz(result.ok())
    assert answered[0] >= EXAMPLES
    assert not failures, json.dumps(failures, indent=1)
