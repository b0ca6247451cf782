"""One error hierarchy with stable codes, mapped once to HTTP status and CLI exit codes."""

from __future__ import annotations

__all__ = [
    "AtlasLockedError",
    "AuditIntegrityError",
    "AuthenticationError",
    "BlockedAddressError",
    "CaseRequiredError",
    "ConfigError",
    "ConflictError",
    "CsrfError",
    "FaceAtlasError",
    "FaceIndexError",
    "FetchError",
    "FetchTimeoutError",
    "HttpStatusError",
    "ImageDecodeError",
    "ImageTooLargeError",
    "InvalidRequestError",
    "ModelMismatchError",
    "NoFaceError",
    "NotAnImageError",
    "NotFoundError",
    "OffAllowlistError",
    "PermissionDeniedError",
    "ProbeQualityError",
    "RateLimitedError",
    "ReembedIncompleteError",
    "RobotsDisallowedError",
    "TakenDownError",
    "TooManyRedirectsError",
    "UnexpectedContentError",
    "UnsupportedImageError",
]


class FaceAtlasError(Exception):
    """Base of every error FaceAtlas raises on purpose.

    ``code`` is stable and documented; front ends map it, never the message.
    """

    code = "internal_error"
    http_status = 500
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequestError(FaceAtlasError):
    code = "invalid_request"
    http_status = 400
    exit_code = 2


class ConfigError(FaceAtlasError):
    code = "config_error"
    http_status = 500
    exit_code = 2


class NotFoundError(FaceAtlasError):
    code = "not_found"
    http_status = 404
    exit_code = 4


class ImageDecodeError(FaceAtlasError):
    """The bytes are not a readable image: corrupt, truncated or not an image at all."""

    code = "image_decode_error"
    http_status = 422
    exit_code = 3


class UnsupportedImageError(ImageDecodeError):
    """A readable image in a format FaceAtlas does not accept."""

    code = "unsupported_image"


class ImageTooLargeError(FaceAtlasError):
    """The file or its pixel count exceeds the configured limit (decompression-bomb guard)."""

    code = "image_too_large"
    http_status = 413
    exit_code = 3


class NoFaceError(FaceAtlasError):
    code = "no_face"
    http_status = 422
    exit_code = 5


class ProbeQualityError(FaceAtlasError):
    """The probe face is below a quality floor at which its person is more likely missed
    than found (docs/fairness.md); the message gives the reasons."""

    code = "probe_quality"
    http_status = 422
    exit_code = 5


class ModelMismatchError(FaceAtlasError):
    """Embeddings of another model id or dimension would be mixed into one index."""

    code = "model_mismatch"
    http_status = 409
    exit_code = 6


class FaceIndexError(FaceAtlasError):
    code = "index_error"
    http_status = 500
    exit_code = 7


class AtlasLockedError(FaceAtlasError):
    """Another process holds the atlas writer lock."""

    code = "atlas_locked"
    http_status = 503
    exit_code = 8


class ReembedIncompleteError(FaceAtlasError):
    """Some faces could not be re-embedded with the new model, so the atlas was not switched."""

    code = "reembed_incomplete"
    http_status = 409
    exit_code = 9


class FetchError(FaceAtlasError):
    """A URL could not be fetched (connection refused, reset, bad response)."""

    code = "fetch_error"
    http_status = 502
    exit_code = 10


class FetchTimeoutError(FetchError):
    """The server was too slow: connect, read or the whole-response deadline ran out."""

    code = "fetch_timeout"
    http_status = 504


class HttpStatusError(FetchError):
    """The server answered with an error status (after any retries)."""

    code = "http_status"

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class TooManyRedirectsError(FetchError):
    code = "too_many_redirects"


class BlockedAddressError(FetchError):
    """SSRF guard: the host resolves to a private, loopback, link-local or reserved address."""

    code = "blocked_address"
    http_status = 403


class UnexpectedContentError(FetchError):
    """The response is not of the kind asked for (an HTML page that is not HTML)."""

    code = "unexpected_content"
    http_status = 415


class NotAnImageError(UnexpectedContentError):
    """The response is not an image by its Content-Type or by its first bytes."""

    code = "not_an_image"


class RobotsDisallowedError(FetchError):
    """robots.txt of the host disallows this URL for our User-Agent."""

    code = "robots_disallowed"
    http_status = 403


class OffAllowlistError(FetchError):
    """The URL's host is not on the crawl allowlist; it is never fetched."""

    code = "off_allowlist"
    http_status = 403


class TakenDownError(FetchError):
    """The image or page URL is on a taken-down domain; it is never fetched or stored."""

    code = "taken_down"
    http_status = 451


class AuthenticationError(FaceAtlasError):
    """No credentials, or credentials that are wrong, expired or revoked."""

    code = "unauthenticated"
    http_status = 401
    exit_code = 20


class PermissionDeniedError(FaceAtlasError):
    """Authenticated, but the role does not allow this action."""

    code = "forbidden"
    http_status = 403
    exit_code = 21


class CsrfError(PermissionDeniedError):
    """A cookie-authenticated form or request without the matching CSRF token."""

    code = "csrf_failed"


class CaseRequiredError(InvalidRequestError):
    """A search without a valid case number and an allowed purpose is refused."""

    code = "case_required"


class ConflictError(FaceAtlasError):
    code = "conflict"
    http_status = 409
    exit_code = 22


class RateLimitedError(FaceAtlasError):
    """Too many searches by one user in the rate-limit window."""

    code = "rate_limited"
    http_status = 429
    exit_code = 23

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class AuditIntegrityError(FaceAtlasError):
    """The audit log's hash chain does not verify: an entry was edited or deleted."""

    code = "audit_tampered"
    http_status = 500
    exit_code = 24
