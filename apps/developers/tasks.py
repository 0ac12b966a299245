import logging
from pathlib import Path

from celery import shared_task
from django.conf import settings

from apps.developers import datasets

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=3600, time_limit=3900)
def export_datasets() -> None:
    """Rebuild the open datasets in DATASETS_DIR. Safe to run twice or concurrently with
    downloads: every file is replaced atomically and the manifest last."""
    manifest = datasets.build(Path(settings.DATASETS_DIR))
    logger.info("datasets exported: %d files at %s", len(manifest["files"]), manifest["built_at"])
