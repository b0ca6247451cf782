"""A folder of image and video files, walked recursively in sorted order."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from faceatlas.engine.video import VIDEO_SUFFIXES
from faceatlas.errors import ImageTooLargeError, InvalidRequestError
from faceatlas.ingest.source import SourceItem, existing_path

__all__ = ["IMAGE_SUFFIXES", "MEDIA_SUFFIXES", "FolderSource", "read_file"]

IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".webp", ".bmp", ".dib", ".tif", ".tiff", ".gif"}
)
"""Image files picked up by a folder walk. The content is sniffed, never trusted from the name
(a file named as a video must hold one, though: ``not_a_video``)."""
MEDIA_SUFFIXES = IMAGE_SUFFIXES | VIDEO_SUFFIXES
"""Every file a folder walk picks up: images and videos."""


class FolderSource:
    """Image and video files under ``root`` (or ``root`` itself when it is a file)."""

    kind = "folder"

    def __init__(self, root: Path, *, max_file_bytes: int) -> None:
        self.root = existing_path(root, "file or folder", file_only=False)
        self.max_file_bytes = max_file_bytes
        self._paths: list[Path] | None = None

    @property
    def locator(self) -> str:
        return str(self.root)

    def _walk(self) -> list[Path]:
        if self._paths is None:
            if self.root.is_file():
                self._paths = [self.root]
            else:
                found: list[Path] = []
                for dirpath, dirnames, filenames in os.walk(self.root):
                    dirnames.sort()
                    found.extend(
                        Path(dirpath) / name
                        for name in sorted(filenames)
                        if Path(name).suffix.lower() in MEDIA_SUFFIXES
                    )
                self._paths = found
        return self._paths

    def count_hint(self) -> int | None:
        return len(self._walk())

    def items(self) -> Iterator[SourceItem]:
        for path in self._walk():
            try:
                st = path.stat()
            except OSError:
                yield SourceItem(locator=str(path))
                continue
            yield SourceItem(locator=str(path), file_size=st.st_size, file_mtime_ns=st.st_mtime_ns)

    def read(self, item: SourceItem) -> bytes:
        return read_file(Path(item.locator), self.max_file_bytes)


def read_file(path: Path, max_file_bytes: int, what: str = "file") -> bytes:
    """The bytes of the file at ``path`` (``what`` in messages), when it is no larger than
    ``max_file_bytes``: :class:`ImageTooLargeError` otherwise, :class:`InvalidRequestError`
    when it cannot be read."""
    try:
        size = path.stat().st_size
        if size > max_file_bytes:
            raise ImageTooLargeError(f"{what} is {size} bytes, limit is {max_file_bytes}")
        return path.read_bytes()
    except OSError as exc:
        raise InvalidRequestError(f"cannot read {what}: {exc.strerror or exc}") from None
