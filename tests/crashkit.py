"""A worker analysis that dies on one marked item, as a native crash in a decoder would: the
process is killed (SIGKILL), with no Python exception to catch. Module-level, so the spawned
worker processes of an ingest pool can run it."""

from __future__ import annotations

import os
import signal

from faceatlas.ingest import worker
from faceatlas.ingest.worker import Analysis

POISON = b"\xff\xd8\xff this file kills the process that decodes it"


def crash_on_poison(items: list[bytes]) -> list[Analysis]:
    """The pool workers' own analysis, except that a group holding :data:`POISON` kills its
    worker process."""
    if POISON in items:
        os.kill(os.getpid(), signal.SIGKILL)
    return worker.analyze_in_worker(items)
