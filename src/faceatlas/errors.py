"""One error hierarchy with stable codes, mapped once to HTTP status and CLI exit codes."""

from __future__ import annotations

__all__ = [
    "AtlasLockedError",
    "ConfigError",
    "FaceAtlasError",
    "FaceIndexError",
    "ImageDecodeError",
    "ImageTooLargeError",
    "InvalidRequestError",
    "ModelMismatchError",
    "NoFaceError",
    "NotFoundError",
    "ReembedIncompleteError",
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
