"""Background ingestion jobs (folders, WARC files, URL lists, any Source), with progress."""

from faceatlas.jobs.runner import JobRecord, JobRunner, SourceFactory
from faceatlas.jobs.targets import JobInput, folder_target, listed_target

__all__ = ["JobInput", "JobRecord", "JobRunner", "SourceFactory", "folder_target", "listed_target"]
