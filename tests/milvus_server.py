"""A real Milvus standalone server for the test session, from the PyPI package ``milvus``.

The package ships Milvus 2.3's standalone binary (the server a cluster's nodes run, with an
embedded etcd and RocksMQ); :class:`MilvusServerProcess` starts it with its configuration,
logs and data under a given folder (the pytest tmp dir) and every port chosen free by the OS,
so test sessions side by side do not collide (the package's own launcher leaves etcd's peer
port at 2380). The binary is unpacked once into a cache shared by sessions. The server dies
with the process that started it, even when that one is killed. ``FACEATLAS_TEST_MILVUS_URI``
names a server to use instead (a CI service container); the fixtures then start nothing.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = [
    "MILVUS_URI_ENV",
    "MilvusServerError",
    "MilvusServerProcess",
    "milvus_server",
    "milvus_server_started_early",
    "milvus_uri",
]

MILVUS_URI_ENV = "FACEATLAS_TEST_MILVUS_URI"
STARTUP_TIMEOUT_S = 120.0
STOP_GRACE_S = 0.5
ETCD_CONFIG = """\
name: faceatlas-test
listen-client-urls: http://127.0.0.1:{client}
advertise-client-urls: http://127.0.0.1:{client}
listen-peer-urls: http://127.0.0.1:{peer}
initial-advertise-peer-urls: http://127.0.0.1:{peer}
initial-cluster: faceatlas-test=http://127.0.0.1:{peer}
"""
"""The embedded etcd's own ports (Milvus 2.3 reads this file from ``etcd.config.path``)."""
TEST_SETTINGS: Mapping[str, object] = {
    "queryCoord.checkInterval": 100,
    "queryCoord.distPullInterval": 100,
    "proxy.timeTickInterval": 50,
}
"""Shorter polling than the defaults (1000, 500 and 200 ms), so that loading a new collection
and strongly consistent reads take less waiting; nothing else differs from the package."""


class MilvusServerError(RuntimeError):
    """The server did not start; the message ends with the tail of its log."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: SIGTERM the server when the process that started it dies (even by SIGKILL)."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _log_tail(base_dir: Path, lines: int = 15) -> str:
    tail: list[str] = []
    for name in ("milvus-stdout.log", "milvus-stderr.log"):
        path = base_dir / "logs" / name
        if path.is_file():
            text = path.read_text(errors="replace").splitlines()
            tail.extend(line[:400] for line in text[-lines:])
    return "\n".join(tail) or "(no log written)"


def _healthy(metrics_port: int) -> bool:
    try:
        url = f"http://127.0.0.1:{metrics_port}/healthz"
        with urllib.request.urlopen(url, timeout=2) as resp:
            return b"OK" in resp.read()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def _unpacked_binary() -> Path:
    """The server binary and its libraries, unpacked once per package version into a cache
    shared by test sessions (unpacking costs about 10 s of CPU), under a lock."""
    import fcntl

    import milvus

    cache = Path(
        os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"),
        "faceatlas-test",
        f"milvus-{milvus.__version__}",
    )
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / "unpack.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        milvus._initialize_data_files(str(cache))  # skips files whose digest is unchanged
    return cache / "bin" / "milvus"


def _configure(
    base_dir: Path, settings: Mapping[str, object]
) -> tuple[list[str], dict[str, str], int]:
    """Write the server's configuration under ``base_dir``: its command, environment and
    client (proxy) port."""
    import milvus
    from milvus import MilvusServerConfig

    package_data = Path(milvus.__file__).parent / "data"
    package_template = package_data / "config.yaml.template"
    text = package_template.read_text()
    if "\netcd:\n" not in text:
        raise MilvusServerError(f"unexpected Milvus config template {package_template}")
    template = base_dir / "milvus.yaml.template"
    template.write_text(
        text.replace("\netcd:\n", "\netcd:\n  config:\n    path: {{ etcd_config_path }}\n", 1)
    )
    etcd_config = base_dir / "etcd.yaml"
    config = MilvusServerConfig(template=str(template), data_dir=str(base_dir))
    config.glog_conf_file = str(package_data / "glog.conf")  # set only for its own template
    ports = {key: _free_port() for key in config.configurable_items if key.endswith("_port")}
    etcd_config.write_text(ETCD_CONFIG.format(client=ports["etcd_port"], peer=_free_port()))
    config.update(**ports)
    config.set("etcd_config_path", str(etcd_config))
    config.set("etcd_log_level", "warn")
    for key, value in settings.items():
        config.set(key, value)  # a dotted key of milvus.yaml replaces that line's value
    config.resolve()  # writes configs/milvus.yaml, with the data and log folders under base_dir
    binary = _unpacked_binary()
    env = dict(os.environ)
    env.update(
        DEPLOY_MODE="STANDALONE",
        METRICS_PORT=str(_free_port()),
        MILVUS_RUN_DIR=str(base_dir / "run"),
        LD_LIBRARY_PATH=f"{binary.parent}:{os.environ.get('LD_LIBRARY_PATH', '')}",
    )
    return [str(binary), "run", "standalone"], env, ports["proxy_port"]


class MilvusServerProcess:
    """A Milvus standalone server started in the background with its files in ``base_dir``.

    ``settings`` override lines of the package's ``milvus.yaml`` (dotted keys). Starting
    returns at once; :meth:`wait_ready` waits for health and gives the URI.
    """

    def __init__(self, base_dir: Path, settings: Mapping[str, object] = TEST_SETTINGS) -> None:
        self.base_dir = base_dir
        base_dir.mkdir(parents=True, exist_ok=True)
        command, env, port = _configure(base_dir, settings)
        self.uri = f"http://127.0.0.1:{port}"
        self._metrics_port = int(env["METRICS_PORT"])
        logs = base_dir / "logs"
        with (
            (logs / "milvus-stdout.log").open("wb") as out,
            (logs / "milvus-stderr.log").open("wb") as err,
        ):
            self.proc = subprocess.Popen(
                command, cwd=base_dir, env=env, stdout=out, stderr=err, preexec_fn=_die_with_parent
            )

    def wait_ready(self, timeout_s: float = STARTUP_TIMEOUT_S) -> str:
        """The URI once the server is healthy; :class:`MilvusServerError` (with the log's tail)
        when it exits first or is not healthy within ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while not _healthy(self._metrics_port):
            if self.proc.poll() is not None:
                raise MilvusServerError(
                    f"Milvus exited with status {self.proc.returncode} while starting; "
                    f"log ({self.base_dir / 'logs'}):\n{_log_tail(self.base_dir)}"
                )
            if time.monotonic() > deadline:
                raise MilvusServerError(
                    f"Milvus was not healthy within {timeout_s:.0f} s; "
                    f"log ({self.base_dir / 'logs'}):\n{_log_tail(self.base_dir)}"
                )
            time.sleep(0.1)
        return self.uri

    def stop(self) -> None:
        """Stop the server (its data is thrown away) and remove its data; the logs stay."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for name in ("data", "run"):
            shutil.rmtree(self.base_dir / name, ignore_errors=True)


@contextmanager
def milvus_server(base_dir: Path, settings: Mapping[str, object] = TEST_SETTINGS) -> Iterator[str]:
    """A Milvus server with its files in ``base_dir`` for the ``with`` block: its URI."""
    server = MilvusServerProcess(base_dir, settings)
    try:
        yield server.wait_ready()
    finally:
        server.stop()


def _needs_server(item: pytest.Item) -> bool:
    """Whether ``item`` uses the server: directly, or as the backend matrix's Milvus server
    (``milvus-server`` in its parameter id)."""
    callspec = getattr(item, "callspec", None)
    return "milvus_uri" in getattr(item, "fixturenames", ()) or (
        callspec is not None and "milvus-server" in callspec.id
    )


@pytest.fixture(scope="session", autouse=True)
def milvus_server_started_early(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MilvusServerProcess | str | None]:
    """When a selected test needs the server, start it as the session begins, so its startup
    (about 8 s, mostly waiting) overlaps the first tests; ``milvus_uri`` waits for it."""
    if os.environ.get(MILVUS_URI_ENV) or not any(map(_needs_server, request.session.items)):
        yield os.environ.get(MILVUS_URI_ENV)
        return
    try:
        server = MilvusServerProcess(tmp_path_factory.mktemp("milvus-server"))
    except (MilvusServerError, OSError, ImportError) as exc:
        yield f"cannot start Milvus: {exc}"  # reported by milvus_uri, in the tests needing it
        return
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def milvus_uri(milvus_server_started_early: MilvusServerProcess | str | None) -> str:
    """A Milvus server for the session: ``$FACEATLAS_TEST_MILVUS_URI``, else the one started
    with the session and stopped at its end. A server that does not start fails the tests
    that need it, with its log; they are never skipped."""
    started = milvus_server_started_early
    if isinstance(started, MilvusServerProcess):
        try:
            return started.wait_ready()
        except MilvusServerError as exc:
            pytest.fail(f"no Milvus server for the index tests (or set {MILVUS_URI_ENV}): {exc}")
    env_uri = os.environ.get(MILVUS_URI_ENV)
    if env_uri:
        return env_uri
    pytest.fail(f"no Milvus server for the index tests (or set {MILVUS_URI_ENV}): {started}")
