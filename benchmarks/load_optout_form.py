"""What ``load_api.py run --attacker`` does to the public opt-out form while the clients
search: ten large selfies a request, as fast as answers come, from four loopback addresses."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import httpx
from PIL import Image

__all__ = ["attack", "selfie"]


def selfie(photo: Path, side: int) -> bytes:
    """A gray canvas ``side`` pixels square with a face in it: a small file, many pixels."""
    with Image.open(photo) as img:
        face = img.convert("RGB")
    canvas = Image.new("RGB", (side, side), (128, 128, 128))
    canvas.paste(face, ((side - face.width) // 2, (side - face.height) // 2))
    out = io.BytesIO()
    canvas.save(out, format="JPEG", quality=85)
    return out.getvalue()


def attack(url: str, selfies: list[bytes], stop: threading.Event, counts: dict[str, int]) -> None:
    """What an outsider does to the public opt-out form: ten large selfies a request, as fast
    as answers come, from four loopback addresses at once."""
    lock = threading.Lock()

    def attacker(address: str) -> None:
        transport = httpx.HTTPTransport(local_address=address)
        with httpx.Client(base_url=url, timeout=120, transport=transport) as http:
            while not stop.is_set():
                form = http.get("/optout")
                token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
                files = [("selfie", (f"s{i}.jpg", data)) for i, data in enumerate(selfies)]
                r = http.post(
                    "/optout",
                    data={
                        "csrf_token": token.group(1) if token else "",
                        "contact": "x@example.org",
                    },
                    files=files,
                )
                with lock:
                    counts[str(r.status_code)] = counts.get(str(r.status_code), 0) + 1

    threads = [
        threading.Thread(target=attacker, args=(f"127.0.0.{i}",), daemon=True) for i in range(2, 6)
    ]
    for th in threads:
        th.start()
    stop.wait()
    for th in threads:
        th.join(timeout=130)
