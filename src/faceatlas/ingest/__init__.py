"""Ingestion: sources of images (folders, URL lists, WARC files, a polite crawler)
and the pipeline that catalogs their faces with provenance."""

from faceatlas.ingest.crawl import CrawlOptions, CrawlSource, crawl_locator
from faceatlas.ingest.fetch import Expect, Fetched, Fetcher, FetchPolicy
from faceatlas.ingest.folder import IMAGE_SUFFIXES, FolderSource
from faceatlas.ingest.pipeline import (
    FaceFilter,
    IngestOptions,
    IngestProgress,
    IngestReport,
    run_ingest,
)
from faceatlas.ingest.polite import Politeness
from faceatlas.ingest.ray_executor import make_ray_executor
from faceatlas.ingest.source import ItemContent, Source, SourceItem
from faceatlas.ingest.takedown import TakedownList, host_matches, normalize_domain
from faceatlas.ingest.urllist import UrlListSource
from faceatlas.ingest.warc import WarcSource
from faceatlas.ingest.web import SourceKind, WebSession, fetch_policy, open_path_source
from faceatlas.ingest.worker import AnalysisLimits, Analyzer, make_executor

__all__ = [
    "IMAGE_SUFFIXES",
    "AnalysisLimits",
    "Analyzer",
    "CrawlOptions",
    "CrawlSource",
    "Expect",
    "FaceFilter",
    "FetchPolicy",
    "Fetched",
    "Fetcher",
    "FolderSource",
    "IngestOptions",
    "IngestProgress",
    "IngestReport",
    "ItemContent",
    "Politeness",
    "Source",
    "SourceItem",
    "SourceKind",
    "TakedownList",
    "UrlListSource",
    "WarcSource",
    "WebSession",
    "crawl_locator",
    "fetch_policy",
    "host_matches",
    "make_executor",
    "make_ray_executor",
    "normalize_domain",
    "open_path_source",
    "run_ingest",
]
