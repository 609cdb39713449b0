"""Enrichment: the durable job queue, the worker that runs engines over pictures, and where results go."""

from .service import Enrichment
from .worker import EnrichmentWorker

__all__ = ["Enrichment", "EnrichmentWorker"]
