"""Safe decoding: every kind of bad file gives a typed error, good formats decode upright."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from faceatlas.engine import decode_image
from faceatlas.errors import ImageDecodeError, ImageTooLargeError, UnsupportedImageError

LIMIT = 40_000_000


def png_header(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` and holds almost no data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_truncated_jpeg_is_a_decode_error(faces_dir: Path) -> None:
    data = (faces_dir / "face_recognition/examples/obama.jpg").read_bytes()
    with pytest.raises(ImageDecodeError, match=r"truncated|corrupt"):
        decode_image(data[: len(data) // 3], max_pixels=LIMIT)


def test_text_file_is_a_decode_error() -> None:
    with pytest.raises(ImageDecodeError, match="not a recognised image"):
        decode_image(b"this is a text file, not a photo\n" * 20, max_pixels=LIMIT)


def test_empty_file_is_a_decode_error() -> None:
    with pytest.raises(ImageDecodeError):
        decode_image(b"", max_pixels=LIMIT)


def test_pixel_bomb_refused_from_the_header() -> None:
    with pytest.raises(ImageTooLargeError, match="pixel"):
        decode_image(png_header(20000, 20000), max_pixels=LIMIT)


def test_file_size_limit() -> None:
    with pytest.raises(ImageTooLargeError):
        decode_image(b"\xff" * 2000, max_pixels=LIMIT, max_bytes=1000)


def test_unsupported_format_refused() -> None:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="ICO")
    with pytest.raises(UnsupportedImageError):
        decode_image(out.getvalue(), max_pixels=LIMIT)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF"])
def test_accepted_formats_decode_to_rgb(fmt: str) -> None:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(out, format=fmt)
    image = decode_image(out.getvalue(), max_pixels=LIMIT)
    assert image.pixels.shape == (30, 40, 3)
    assert image.pixels.dtype == np.uint8


def test_gif_first_frame_is_read() -> None:
    frames = [Image.new("RGB", (20, 10), c) for c in ((255, 0, 0), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:])
    pixels = decode_image(out.getvalue(), max_pixels=LIMIT).pixels
    assert pixels[5, 10, 0] > 200 and pixels[5, 10, 2] < 50


def test_exif_orientation_is_applied() -> None:
    img = Image.new("RGB", (60, 20), (0, 255, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    assert decode_image(out.getvalue(), max_pixels=LIMIT).pixels.shape == (60, 20, 3)


def test_rgba_and_grey_become_rgb(faces_dir: Path) -> None:
    rgba = decode_image(
        (faces_dir / "face_recognition/test_images/32bit.png").read_bytes(), max_pixels=LIMIT
    )
    assert rgba.pixels.shape[2] == 3
    out = io.BytesIO()
    Image.new("L", (10, 10), 128).save(out, format="PNG")
    assert decode_image(out.getvalue(), max_pixels=LIMIT).pixels.shape == (10, 10, 3)
