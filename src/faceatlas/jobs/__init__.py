"""Background ingestion jobs over any :class:`~faceatlas.ingest.Source`, with progress."""

from faceatlas.jobs.runner import JobRecord, JobRunner, SourceFactory, folder_source_factory

__all__ = ["JobRecord", "JobRunner", "SourceFactory", "folder_source_factory"]
