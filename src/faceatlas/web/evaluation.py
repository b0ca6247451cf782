"""The accuracy page: the calibration in force and the latest evaluation report.

Signed-in users see how often the system matches strangers before they act
on a lead. The report is read from ``FACEATLAS_EVAL_REPORT_DIR`` (written by
``faceatlas eval run``); plots are served only by the names the report lists.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from faceatlas.errors import FaceAtlasError, NotFoundError
from faceatlas.eval.report import EXPLAIN, fmt_rate, load_report
from faceatlas.web.pages import pages_of, service_of, session

__all__ = ["router"]

router = APIRouter()


def _report(request: Request) -> tuple[dict[str, Any] | None, str]:
    folder = service_of(request).settings.eval_report_dir
    if folder is None:
        return None, "No evaluation report is configured (FACEATLAS_EVAL_REPORT_DIR)."
    try:
        return load_report(folder), ""
    except FaceAtlasError as exc:
        return None, exc.message


@router.get("/evaluation")
def evaluation_page(request: Request) -> Response:
    credential = session(request)
    service = service_of(request)
    record = service.collection.calibration()
    threshold, source = service.collection.threshold()
    report, problem = _report(request)
    return pages_of(request).render(
        request,
        "evaluation.html",
        {
            "calibration": record,
            "threshold": threshold,
            "threshold_source": source,
            "report": report,
            "problem": problem,
            "explain": EXPLAIN,
            "fmt_rate": fmt_rate,
        },
        credential=credential,
    )


@router.get("/evaluation/plots/{name}")
def evaluation_plot(request: Request, name: str) -> Response:
    session(request)
    report, problem = _report(request)
    folder = service_of(request).settings.eval_report_dir
    listed = {n for names in (report or {}).get("plots", {}).values() for n in names}
    if report is None or folder is None or name not in listed:
        raise NotFoundError(problem or f"no plot named {name!r} in the report")
    return FileResponse(folder / name, media_type="image/png")
