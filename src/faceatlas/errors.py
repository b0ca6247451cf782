"""One error hierarchy with stable codes, mapped once to HTTP status and CLI exit codes."""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ERROR_STATUS",
    "ArchiveError",
    "ArchiveTooLargeError",
    "AtlasLockedError",
    "AuditIntegrityError",
    "AuthenticationError",
    "BackupIntegrityError",
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
    "NestedArchiveError",
    "NoFaceError",
    "NotAVideoError",
    "NotAnImageError",
    "NotFoundError",
    "OffAllowlistError",
    "PermissionDeniedError",
    "ProbeQualityError",
    "RateLimitedError",
    "ReembedIncompleteError",
    "RobotsDisallowedError",
    "SelfVerificationError",
    "TakenDownError",
    "TooManyRedirectsError",
    "UnexpectedContentError",
    "UnsafeNameError",
    "UnsupportedImageError",
    "VideoDecodeError",
]

ERROR_STATUS: dict[str, tuple[int, int]] = {
    # code: (HTTP status, CLI exit code)
    "internal_error": (500, 1),
    "invalid_request": (400, 2),
    "case_required": (400, 2),
    "config_error": (500, 2),
    "not_found": (404, 4),
    "image_decode_error": (422, 3),
    "unsupported_image": (422, 3),
    "video_decode_error": (422, 3),
    "not_a_video": (415, 3),
    "image_too_large": (413, 3),
    "archive_error": (422, 3),
    "archive_too_large": (413, 3),
    "nested_archive": (415, 3),
    "unsafe_name": (400, 3),
    "no_face": (422, 5),
    "probe_quality": (422, 5),
    "model_mismatch": (409, 6),
    "index_error": (500, 7),
    "atlas_locked": (503, 8),
    "reembed_incomplete": (409, 9),
    "fetch_error": (502, 10),
    "fetch_timeout": (504, 10),
    "http_status": (502, 10),
    "too_many_redirects": (502, 10),
    "blocked_address": (403, 10),
    "unexpected_content": (415, 10),
    "not_an_image": (415, 10),
    "robots_disallowed": (403, 10),
    "off_allowlist": (403, 10),
    "taken_down": (451, 10),
    "unauthenticated": (401, 20),
    "forbidden": (403, 21),
    "csrf_failed": (403, 21),
    "self_verification": (403, 21),
    "conflict": (409, 22),
    "rate_limited": (429, 23),
    "audit_tampered": (500, 24),
    "backup_tampered": (422, 25),
}
"""Every stable error code with the HTTP status the API answers and the exit code the CLI
returns: the one place they are mapped. An error class names its code; the rest comes from here."""


class FaceAtlasError(Exception):
    """Base of every error FaceAtlas raises on purpose.

    ``code`` is stable and documented; front ends map it, never the message. A subclass
    gives its code as a class keyword (``class NoFaceError(FaceAtlasError, code="no_face")``)
    and takes its ``http_status`` and ``exit_code`` from :data:`ERROR_STATUS`.
    """

    code: ClassVar[str] = "internal_error"
    http_status: ClassVar[int] = ERROR_STATUS["internal_error"][0]
    exit_code: ClassVar[int] = ERROR_STATUS["internal_error"][1]

    def __init_subclass__(cls, *, code: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.code = code
        cls.http_status, cls.exit_code = ERROR_STATUS[code]

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidRequestError(FaceAtlasError, code="invalid_request"):
    """The request is malformed or asks for something not allowed."""


class ConfigError(FaceAtlasError, code="config_error"):
    """Settings or installed models that cannot work together."""


class NotFoundError(FaceAtlasError, code="not_found"):
    """The thing asked for does not exist (a face, image, identity, user, file or report)."""


class ImageDecodeError(FaceAtlasError, code="image_decode_error"):
    """The bytes are not a readable image: corrupt, truncated or not an image at all."""


class UnsupportedImageError(ImageDecodeError, code="unsupported_image"):
    """A readable image in a format FaceAtlas does not accept."""


class VideoDecodeError(FaceAtlasError, code="video_decode_error"):
    """A video container that cannot be read through: corrupt, truncated, hostile, or with no
    decodable video stream."""


class NotAVideoError(FaceAtlasError, code="not_a_video"):
    """A file named as a video (``.mp4``, ``.webm``, ...) whose content is no video container."""


class ImageTooLargeError(FaceAtlasError, code="image_too_large"):
    """The file or its pixel count exceeds the configured limit (decompression-bomb guard)."""


class ArchiveError(FaceAtlasError, code="archive_error"):
    """An uploaded archive (zip) or one of its entries cannot be read: not a zip, damaged,
    encrypted or compressed in a way that is not supported."""


class ArchiveTooLargeError(ArchiveError, code="archive_too_large"):
    """An archive with more entries, or more bytes once uncompressed, than the configured
    limits allow (zip-bomb guard); refused before any entry is read."""


class NestedArchiveError(ArchiveError, code="nested_archive"):
    """An archive inside an archive: never opened, the entry is refused."""


class UnsafeNameError(ArchiveError, code="unsafe_name"):
    """An archive entry whose name climbs out of its folder (``..``), is absolute or holds
    control characters; refused, and nothing is ever written under an entry's name."""


class NoFaceError(FaceAtlasError, code="no_face"):
    """The photo holds no face the engine can find."""


class ProbeQualityError(FaceAtlasError, code="probe_quality"):
    """The probe face is below a quality floor at which its person is more likely missed
    than found (docs/fairness.md); the message gives the reasons."""


class ModelMismatchError(FaceAtlasError, code="model_mismatch"):
    """Embeddings of another model id or dimension would be mixed into one index."""


class FaceIndexError(FaceAtlasError, code="index_error"):
    """The vector index failed or was used wrongly."""


class AtlasLockedError(FaceAtlasError, code="atlas_locked"):
    """Another process holds the atlas writer lock."""


class ReembedIncompleteError(FaceAtlasError, code="reembed_incomplete"):
    """Some faces could not be re-embedded with the new model, so the atlas was not switched."""


class FetchError(FaceAtlasError, code="fetch_error"):
    """A URL could not be fetched (connection refused, reset, bad response)."""


class FetchTimeoutError(FetchError, code="fetch_timeout"):
    """The server was too slow: connect, read or the whole-response deadline ran out."""


class HttpStatusError(FetchError, code="http_status"):
    """The server answered with an error status (after any retries)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class TooManyRedirectsError(FetchError, code="too_many_redirects"):
    """The redirect chain is longer than the fetch policy allows."""


class BlockedAddressError(FetchError, code="blocked_address"):
    """SSRF guard: the host resolves to a private, loopback, link-local or reserved address."""


class UnexpectedContentError(FetchError, code="unexpected_content"):
    """The response is not of the kind asked for (an HTML page that is not HTML)."""


class NotAnImageError(UnexpectedContentError, code="not_an_image"):
    """The response is not an image by its Content-Type or by its first bytes."""


class RobotsDisallowedError(FetchError, code="robots_disallowed"):
    """robots.txt of the host disallows this URL for our User-Agent."""


class OffAllowlistError(FetchError, code="off_allowlist"):
    """The URL's host is not on the crawl allowlist; it is never fetched."""


class TakenDownError(FetchError, code="taken_down"):
    """The image or page URL is on a taken-down domain; it is never fetched or stored."""


class AuthenticationError(FaceAtlasError, code="unauthenticated"):
    """No credentials, or credentials that are wrong, expired or revoked."""


class PermissionDeniedError(FaceAtlasError, code="forbidden"):
    """Authenticated, but the role does not allow this action."""


class CsrfError(PermissionDeniedError, code="csrf_failed"):
    """A cookie-authenticated form or request without the matching CSRF token."""


class SelfVerificationError(PermissionDeniedError, code="self_verification"):
    """An examiner tried to verify their own decision: verification needs a second person."""


class CaseRequiredError(InvalidRequestError, code="case_required"):
    """A search without a valid case number and an allowed purpose is refused."""


class ConflictError(FaceAtlasError, code="conflict"):
    """The action conflicts with the current state (a request already decided, a model switch
    that would drop opt-out filters)."""


class RateLimitedError(FaceAtlasError, code="rate_limited"):
    """Too many searches by one user in the rate-limit window."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class AuditIntegrityError(FaceAtlasError, code="audit_tampered"):
    """The audit log's hash chain does not verify: an entry was edited or deleted."""


class BackupIntegrityError(FaceAtlasError, code="backup_tampered"):
    """A backup (or a privacy journal) does not match its manifest or its audit chain: a file
    was changed, added or removed. Nothing is restored from it."""
