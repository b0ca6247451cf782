"""Pages: sign-in, face details, ingestion, users and audit review (search: ``results``, the
home page: ``home``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from faceatlas.accounts import Role, TokenKind, User
from faceatlas.errors import (
    AuthenticationError,
    FaceAtlasError,
    InvalidRequestError,
    PermissionDeniedError,
    RateLimitedError,
)
from faceatlas.http.session import SESSION_COOKIE, client_of, token_matches_cookie
from faceatlas.services import Interface, sighting_view
from faceatlas.types import RowId
from faceatlas.web.pages import (
    LOGIN_CSRF_COOKIE,
    CsrfField,
    form_page,
    new_login_csrf,
    pages_of,
    posted_by,
    service_of,
    session,
    set_strict_cookie,
)

__all__ = ["router"]

router = APIRouter()


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _start_session(request: Request, user: User, url: str) -> Response:
    """Issue a web session for ``user`` and go to ``url`` with its cookie set."""
    ttl_s = service_of(request).settings.session_ttl_s
    issued = service_of(request).accounts.issue(user, TokenKind.SESSION, ttl_s)
    response = _redirect(url)
    set_strict_cookie(request, response, SESSION_COOKIE, issued.secret, max_age=ttl_s, path="/")
    return response


# --- sign in / out -----------------------------------------------------------------------


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
    csrf_token: CsrfField = "",
) -> Response:
    if not token_matches_cookie(request, LOGIN_CSRF_COOKIE, csrf_token):
        return login_form(request, "Your sign-in form expired; please try again.", 403)
    service = service_of(request)
    try:
        user = service.accounts.authenticate(username, password, client_of(request))
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
def logout(request: Request, csrf_token: CsrfField = "") -> Response:
    credential = posted_by(request, csrf_token, allow_pending=True)
    service = service_of(request)
    service.accounts.revoke(credential.user, credential.token_id)
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
    csrf_token: CsrfField = "",
) -> Response:
    credential = posted_by(request, csrf_token, allow_pending=True)
    try:
        user = service_of(request).accounts.change_password(
            credential.user.username,
            current_password,
            new_password,
            client_of(request),
            interface=Interface.WEB,
        )
    except (AuthenticationError, InvalidRequestError, RateLimitedError) as exc:
        return pages_of(request).render(
            request, "password.html", {"error": exc.message}, credential=credential, status=400
        )
    return _start_session(request, user, "/search")


# --- result details ---------------------------------------------------------------------


@router.get("/faces/{face_id}")
def face_page(request: Request, face_id: RowId) -> Response:
    credential = session(request)
    record = service_of(request).face(credential.user, face_id)
    sightings = [sighting_view(s, record.span) for s in record.sightings]
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
    csrf_token: CsrfField = "",
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

USER_CHANGES: dict[str, bool | None] = {"activate": True, "deactivate": False, "update": None}
"""The user-form actions that change an account, and the active flag each sets."""


def _users_page(request: Request, credential: Any, **extra: Any) -> Response:
    users = service_of(request).accounts.list_users()
    context = {"users": users, "roles": list(Role), "created": None, "notice": None}
    return form_page(request, "users.html", credential, context, extra)


@router.get("/admin/users")
def users_page(request: Request) -> Response:
    return _users_page(request, session(request, Role.ADMIN))


@router.post("/admin/users")
def create_user(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    role: Annotated[Role, Form()],
    unit: Annotated[str, Form(max_length=100)] = "",
    csrf_token: CsrfField = "",
) -> Response:
    credential = posted_by(request, csrf_token, Role.ADMIN)
    desk = service_of(request).accounts
    try:
        user, password = desk.create_user(credential.user, username, role, unit)
    except FaceAtlasError as exc:
        return _users_page(request, credential, error=exc.message, status=exc.http_status)
    return _users_page(request, credential, created={"user": user, "password": password})


@router.post("/admin/users/{user_id}")
def update_user(
    request: Request,
    user_id: RowId,
    action: Annotated[str, Form(max_length=20)],
    role: Annotated[Role | None, Form()] = None,
    unit: Annotated[str | None, Form(max_length=100)] = None,
    csrf_token: CsrfField = "",
) -> Response:
    credential = posted_by(request, csrf_token, Role.ADMIN)
    service = service_of(request)
    admin = credential.user
    try:
        if action == "unlock":
            target = service.accounts.get(user_id)
            freed = service.accounts.unlock(admin, user_id)
            notice = f"{target.username} unlocked ({freed} address(es) freed)."
            return _users_page(request, credential, notice=notice)
        if action == "reset":
            target, password = service.accounts.reset_password(admin, user_id)
            return _users_page(request, credential, created={"user": target, "password": password})
        if action not in USER_CHANGES:
            raise InvalidRequestError(f"unknown action {action!r}")
        service.accounts.update_user(
            admin,
            user_id,
            role=role if action == "update" else None,
            unit=unit if action == "update" else None,
            active=USER_CHANGES[action],
            audit={
                "action": action,
                "role": None if role is None else role.value,
                "unit": unit,
            },
        )
    except PermissionDeniedError as exc:
        return _users_page(request, credential, error=exc.message, status=exc.http_status)
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
        service.review.user_for_review(credential.user, actor)
    entries = service.review.searches(
        credential.user, actor=actor, case_number=case_number, limit=200
    )
    summary = service.review.search_summary(credential.user)
    return pages_of(request).render(
        request,
        "audit.html",
        {"entries": entries, "summary": summary, "actor": actor, "case_number": case_number},
        credential=credential,
    )
