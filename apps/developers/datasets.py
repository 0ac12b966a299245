"""The open datasets: what `manage.py export_dataset` and the daily beat task build, and what
/datasets/ lists. Responses, models and challenges are written by apps/datasets/export.py;
the votes table comes from the arena's selector, without anything personal."""

from pathlib import Path

import pyarrow as pa
from django.conf import settings
from django.utils import timezone

from apps.arena import selectors as arena
from apps.datasets import export

VOTE_COLUMNS = (
    ("battle", pa.int64()),
    ("model_a", pa.string()),
    ("model_b", pa.string()),
    ("outcome", pa.string()),
    ("category", pa.string()),
    ("date", pa.string()),
)


def _vote_rows():
    for battle, model_a, model_b, outcome, category, created_at in arena.votes_for_export():
        yield battle, model_a, model_b, outcome, category, created_at.date().isoformat()


def build(root: Path) -> dict:
    """Write every dataset file into `root` (each atomically), then the manifest that lists
    them with size, row count and SHA-256. Safe to run while the files are being served."""
    root.mkdir(parents=True, exist_ok=True)
    files = export.write_responses(root)
    files += export.write_table(
        root,
        "votes",
        "Counted arena votes: battle, models, outcome (a, b, tie, both_bad), category, day. "
        "No session, address or account.",
        VOTE_COLUMNS,
        _vote_rows,
    )
    export.write_manifest(
        root, files, built_at=timezone.now().isoformat(), licence=settings.DATASETS_LICENCE
    )
    return export.read_manifest(root)


def current() -> dict | None:
    return export.read_manifest(Path(settings.DATASETS_DIR))
