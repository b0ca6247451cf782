"""Ingestion: sources of images and the pipeline that catalogs their faces."""

from faceatlas.ingest.folder import IMAGE_SUFFIXES, FolderSource
from faceatlas.ingest.pipeline import (
    FaceFilter,
    IngestOptions,
    IngestProgress,
    IngestReport,
    run_ingest,
)
from faceatlas.ingest.source import Source, SourceItem
from faceatlas.ingest.worker import AnalysisLimits, Analyzer, make_executor

__all__ = [
    "IMAGE_SUFFIXES",
    "AnalysisLimits",
    "Analyzer",
    "FaceFilter",
    "FolderSource",
    "IngestOptions",
    "IngestProgress",
    "IngestReport",
    "Source",
    "SourceItem",
    "make_executor",
    "run_ingest",
]
