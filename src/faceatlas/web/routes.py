"""Pages: sign-in, search, results, face details, ingestion, users and audit review."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from faceatlas.accounts import Credential, Role, TokenKind, User
from faceatlas.api.deps import SESSION_COOKIE
from faceatlas.api.schemas import SightingOut
from faceatlas.api.service import SearchRequest, similarity_band
from faceatlas.api.uploads import read_upload
from faceatlas.errors import (
    AuthenticationError,
    FaceAtlasError,
    InvalidRequestError,
    RateLimitedError,
)
from faceatlas.types import RowId
from faceatlas.web.pages import (
    LOGIN_CSRF_COOKIE,
    client_of,
    new_login_csrf,
    optional_session,
    pages_of,
    posted_by,
    service_of,
    session,
    set_strict_cookie,
    token_matches_cookie,
)
from faceatlas.web.searchform import SearchPage, accountable_search, search_form

__all__ = ["router"]

router = APIRouter()


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _start_session(request: Request, user: User, url: str) -> Response:
    """Issue a web session for ``user`` and go to ``url`` with its cookie set."""
    ttl_s = service_of(request).settings.session_ttl_s
    issued = service_of(request).atlas.accounts.issue(user, TokenKind.SESSION, ttl_s)
    response = _redirect(url)
    set_strict_cookie(request, response, SESSION_COOKIE, issued.secret, max_age=ttl_s, path="/")
    return response


# --- sign in / out -----------------------------------------------------------------------


@router.get("/")
def home(request: Request) -> Response:
    return _redirect("/search" if optional_session(request) else "/login")


@router.get("/login")
def login_form(request: Request, error: str | None = None, status: int = 200) -> Response:
    token = new_login_csrf()
    response = pages_of(request).render(
        request, "login.html", {"login_csrf": token, "error": error}, status=status
    )
    set_strict_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=900, path="/login")
    return response


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    if not token_matches_cookie(request, LOGIN_CSRF_COOKIE, csrf_token):
        return login_form(request, "Your sign-in form expired; please try again.", 403)
    service = service_of(request)
    try:
        user = service.authenticate(username, password, client_of(request))
    except AuthenticationError:
        return login_form(request, "Wrong username or password.", 401)
    except RateLimitedError as exc:
        return login_form(request, exc.message, 429)
    response = _start_session(
        request, user, "/account/password" if user.must_change_password else "/search"
    )
    service.record(user, "signed_in", interface="web")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str, Form(max_length=100)] = "") -> Response:
    credential = posted_by(request, csrf_token, allow_pending=True)
    service = service_of(request)
    service.atlas.accounts.revoke(credential.token_id, user_id=credential.user.id)
    service.record(credential.user, "signed_out", interface="web")
    response = _redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account/password")
def password_form(request: Request) -> Response:
    credential = session(request, allow_pending=True)
    return pages_of(request).render(request, "password.html", {}, credential=credential)


@router.post("/account/password")
def change_password(
    request: Request,
    current_password: Annotated[str, Form(max_length=1024)],
    new_password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    credential = posted_by(request, csrf_token, allow_pending=True)
    service = service_of(request)
    accounts = service.atlas.accounts
    try:
        service.authenticate(credential.user.username, current_password, client_of(request))
        accounts.set_password(credential.user.id, new_password)
    except (AuthenticationError, InvalidRequestError, RateLimitedError) as exc:
        return pages_of(request).render(
            request, "password.html", {"error": exc.message}, credential=credential, status=400
        )
    service.record(credential.user, "password_changed", interface="web")
    return _start_session(request, accounts.get(credential.user.id), "/search")


# --- search ----------------------------------------------------------------------------------


SEARCH = SearchPage("search.html", "results.html", ("case_number", "purpose", "face"))


@router.get("/search")
def search_page(request: Request) -> Response:
    return search_form(request, SEARCH, session(request))


@router.post("/search")
async def search(request: Request) -> Response:
    return await accountable_search(request, SEARCH, _search)


def _face_number(text: str) -> int | None:
    """The face picked on the photo (none: the largest), never negative."""
    try:
        face = int(text) if text.strip() else None
    except ValueError:
        face = -1
    if face is not None and face < 0:
        raise InvalidRequestError("Pick a face on the photo.")
    return face


async def _search(
    request: Request, credential: Credential, form: FormData, fields: dict[str, str]
) -> dict[str, Any]:
    service = service_of(request)
    face = _face_number(fields["face"])
    service.check_case(fields["case_number"], fields["purpose"])
    upload = form.get("image")
    data = await read_upload(
        upload if isinstance(upload, UploadFile) else None, service.settings.max_upload_bytes
    )
    outcome = await run_in_threadpool(
        service.search,
        credential.user,
        data,
        SearchRequest(fields["case_number"], fields["purpose"], face=face, interface="web"),
    )
    result = outcome.result
    hits = [
        {
            "hit": h,
            "band": similarity_band(h.decision_score, result.threshold),
            "fmr": h.estimated_fmr,
            "fpir": h.estimated_fpir,
            "sightings": [SightingOut.of(s) for s in h.sightings],
        }
        for h in result.hits
    ]
    return {"outcome": outcome, "result": result, "hits": hits}


@router.get("/faces/{face_id}")
def face_page(request: Request, face_id: RowId) -> Response:
    credential = session(request)
    record = service_of(request).face(credential.user, face_id)
    sightings = [SightingOut.of(s) for s in record.sightings]
    return pages_of(request).render(
        request, "face.html", {"face": record, "sightings": sightings}, credential=credential
    )


# --- ingestion (admin) ---------------------------------------------------------------------


@router.get("/ingest")
def ingest_page(request: Request, error: str | None = None, status: int = 200) -> Response:
    credential = session(request, Role.ADMIN)
    service = service_of(request)
    return pages_of(request).render(
        request,
        "ingest.html",
        {
            "jobs": service.jobs.list(),
            "kinds": service.jobs.kinds,
            "targets": service.jobs.targets(),
            "error": error,
        },
        credential=credential,
        status=status,
    )


@router.post("/ingest")
def start_ingest(
    request: Request,
    kind: Annotated[str, Form(max_length=40)],
    target: Annotated[str, Form(max_length=2000)] = "",
    urls: Annotated[str, Form(max_length=2_000_000)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    credential = posted_by(request, csrf_token, Role.ADMIN)
    service = service_of(request)
    try:
        if kind == "urls" and urls.strip():
            job = service.jobs.submit_urls(urls.splitlines(), credential.user.username)
        else:
            job = service.jobs.submit(kind, target.strip(), credential.user.username)
    except InvalidRequestError as exc:
        return ingest_page(request, exc.message, 400)
    service.record(
        credential.user, "ingest_started", job_id=job.id, kind=job.kind, target=job.target
    )
    return _redirect("/ingest")


# --- users (admin) ---------------------------------------------------------------------------


def _users_page(request: Request, credential: Any, **extra: Any) -> Response:
    status = int(extra.pop("status", 200))
    users = service_of(request).atlas.accounts.list_users()
    return pages_of(request).render(
        request,
        "users.html",
        {
            "users": users,
            "roles": list(Role),
            "created": None,
            "error": None,
            "notice": None,
            **extra,
        },
        credential=credential,
        status=status,
    )


@router.get("/admin/users")
def users_page(request: Request) -> Response:
    return _users_page(request, session(request, Role.ADMIN))


@router.post("/admin/users")
def create_user(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[Role, Form()],
    unit: Annotated[str, Form(max_length=100)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    credential = posted_by(request, csrf_token, Role.ADMIN)
    service = service_of(request)
    try:
        user, password = service.atlas.accounts.create_user(username, role, unit=unit)
    except FaceAtlasError as exc:
        return _users_page(request, credential, error=exc.message, status=exc.http_status)
    service.record(credential.user, "user_created", user=user.username, role=role.value, unit=unit)
    return _users_page(request, credential, created={"user": user, "password": password})


@router.post("/admin/users/{user_id}")
def update_user(
    request: Request,
    user_id: RowId,
    action: Annotated[str, Form(max_length=20)],
    role: Annotated[Role | None, Form()] = None,
    unit: Annotated[str | None, Form(max_length=100)] = None,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    credential = posted_by(request, csrf_token, Role.ADMIN)
    service = service_of(request)
    accounts = service.atlas.accounts
    if user_id == credential.user.id and action in ("deactivate", "update"):
        return _users_page(
            request, credential, error="Admins cannot change their own role or access.", status=403
        )
    target = accounts.get(user_id)
    if action == "unlock":
        freed = service.unlock(credential.user, user_id)
        return _users_page(
            request, credential, notice=f"{target.username} unlocked ({freed} address(es) freed)."
        )
    if action == "reset":
        password = accounts.reset_password(user_id)
        service.record(credential.user, "password_reset", user=target.username)
        return _users_page(request, credential, created={"user": target, "password": password})
    if action == "deactivate":
        accounts.update_user(user_id, active=False)
    elif action == "activate":
        accounts.update_user(user_id, active=True)
    elif action == "update":
        accounts.update_user(user_id, role=role, unit=unit)
    else:
        raise InvalidRequestError(f"unknown action {action!r}")
    service.record(
        credential.user,
        "user_updated",
        user=target.username,
        action=action,
        role=None if role is None else role.value,
        unit=unit,
    )
    return _redirect("/admin/users")


@router.get("/admin/settings")
def settings_page(request: Request) -> Response:
    credential = session(request, Role.ADMIN)
    view = service_of(request).settings_view()
    return pages_of(request).render(
        request, "settings.html", {"settings": view}, credential=credential
    )


# --- audit review (supervisor, admin) -------------------------------------------------------


@router.get("/audit")
def audit_page(
    request: Request, actor: str | None = None, case_number: str | None = None
) -> Response:
    credential = session(request, Role.SUPERVISOR)
    service = service_of(request)
    actor = actor or None
    case_number = case_number or None
    if actor is not None:
        service.user_for_review(credential.user, actor)
    entries = service.searches(credential.user, actor=actor, case_number=case_number, limit=200)
    summary = service.search_summary(credential.user)
    return pages_of(request).render(
        request,
        "audit.html",
        {"entries": entries, "summary": summary, "actor": actor, "case_number": case_number},
        credential=credential,
    )
