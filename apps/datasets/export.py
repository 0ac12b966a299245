"""Open-dataset files: JSON Lines in exactly the format `import_dataset` reads, gzipped CSV
and Parquet of published responses with their model and challenge, and writers other apps
use for their own tables (the arena's votes).

Every file is written beside its final name and moved into place with os.replace, so a
download sees the old file or the new one, whole. Rows are streamed from the database in
chunks, so memory stays flat whatever the number of responses.
"""

import csv
import gzip
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from apps.catalog.models import AIModel
from apps.challenges.models import Challenge, OutputType
from apps.responses.models import Response

CHUNK = 2000
JSONL_DIR = "jsonl"

RESPONSE_COLUMNS = (
    ("id", pa.int64()),
    ("model", pa.string()),
    ("model_name", pa.string()),
    ("creator", pa.string()),
    ("challenge", pa.string()),
    ("challenge_title", pa.string()),
    ("category", pa.string()),
    ("output_type", pa.string()),
    ("prompt", pa.string()),
    ("content", pa.string()),
    ("collected_at", pa.string()),
    ("tokens_in", pa.int64()),
    ("tokens_out", pa.int64()),
    ("latency_ms", pa.int64()),
    ("ttft_ms", pa.int64()),
    ("cost_usd", pa.float64()),
    ("finish_reason", pa.string()),
    ("gateway_model_id", pa.string()),
    ("temperature", pa.float64()),
    ("top_p", pa.float64()),
    ("max_tokens", pa.int64()),
    ("source", pa.string()),
)


@dataclass(frozen=True)
class ExportedFile:
    name: str  # relative to the export folder, with "/"
    format: str
    description: str
    rows: int
    bytes: int
    sha256: str


@contextmanager
def atomic_path(path: Path):
    """A temporary path beside `path`, moved over it when the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _described(root: Path, path: Path, fmt: str, description: str, rows: int) -> ExportedFile:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return ExportedFile(
        name=path.relative_to(root).as_posix(),
        format=fmt,
        description=description,
        rows=rows,
        bytes=path.stat().st_size,
        sha256=digest.hexdigest(),
    )


# --- Generic writers ----------------------------------------------------------------------------


def write_jsonl(path: Path, records: Iterable[dict]) -> int:
    count = 0
    with atomic_path(path) as temporary, temporary.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


def write_csv_gz(path: Path, columns: list[str], rows: Iterable[tuple]) -> int:
    count = 0
    with (
        atomic_path(path) as temporary,
        gzip.open(temporary, "wt", encoding="utf-8", newline="") as out,
    ):
        writer = csv.writer(out)
        writer.writerow(columns)
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def write_parquet(path: Path, schema: pa.Schema, rows: Iterable[tuple]) -> int:
    """Rows in batches of CHUNK, so a large table never sits in memory whole."""
    count = 0
    with atomic_path(path) as temporary:
        writer = pq.ParquetWriter(temporary, schema, compression="zstd")
        try:
            batch: list[tuple] = []
            for row in rows:
                batch.append(row)
                if len(batch) == CHUNK:
                    count += _write_batch(writer, schema, batch)
                    batch = []
            count += _write_batch(writer, schema, batch)
        finally:
            writer.close()
    return count


def _write_batch(writer, schema: pa.Schema, batch: list[tuple]) -> int:
    if not batch:
        return 0
    columns = list(zip(*batch, strict=True))
    arrays = [pa.array(column, type=f.type) for column, f in zip(columns, schema, strict=True)]
    writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
    return len(batch)


def write_table(
    root: Path, stem: str, description: str, columns, rows_factory
) -> list[ExportedFile]:
    """One table as `<stem>.csv.gz` and `<stem>.parquet`; `columns` are (name, arrow type)
    and `rows_factory()` yields fresh row tuples for each file."""
    names = [name for name, _ in columns]
    schema = pa.schema(list(columns))
    csv_path, parquet_path = root / f"{stem}.csv.gz", root / f"{stem}.parquet"
    rows = write_csv_gz(csv_path, names, rows_factory())
    write_parquet(parquet_path, schema, rows_factory())
    return [
        _described(root, csv_path, "csv.gz", description, rows),
        _described(root, parquet_path, "parquet", description, rows),
    ]


# --- Responses, models and challenges -----------------------------------------------------------


def _published_responses():
    return (
        Response.objects.visible()
        .with_related()
        .defer("rendered_html", "rendered_hash")
        .order_by("pk")
    )


def _number(value, kind):
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return kind(value)


def response_rows() -> Iterator[tuple]:
    for r in _published_responses().iterator(chunk_size=CHUNK):
        sent = r.settings if isinstance(r.settings, dict) else {}
        category = r.challenge.category
        yield (
            r.pk,
            r.model.slug,
            r.model.name,
            r.model.provider.slug,
            r.challenge.slug,
            r.challenge.title,
            category.slug if category else None,
            r.output_type,
            r.prompt,
            r.content,
            r.collected_at.isoformat(),
            r.tokens_in,
            r.tokens_out,
            r.latency_ms,
            r.ttft_ms,
            None if r.cost_usd is None else float(r.cost_usd),
            r.finish_reason,
            str(sent.get("model_id") or r.model.gateway_model_id or "") or None,
            _number(sent.get("temperature"), float),
            _number(sent.get("top_p"), float),
            _number(sent.get("max_tokens"), int),
            r.source,
        )


def _model_record(m: AIModel) -> dict:
    return {
        "id": m.slug,
        "name": m.name,
        "provider": m.provider.slug,
        "description": m.description,
        "released": m.release_date.isoformat() if m.release_date else None,
        "size": m.size_class or None,
        "contextWindow": m.context_length,
        "parametersCount": m.parameters_note,
        "url": m.url,
        "capabilities": [c.slug for c in m.capabilities.all()],
        "categories": [c.slug for c in m.modalities.all()],
        "featured": m.featured,
    }


def _challenge_record(c: Challenge) -> dict:
    return {
        "id": c.slug,
        "title": c.title,
        "description": c.description,
        "prompt": c.prompt,
        "difficulty": c.difficulty or None,
        "expectedOutputType": c.output_type,
        "category": c.category.slug if c.category else None,
    }


def _response_records(folder: Path) -> Iterator[dict]:
    for r in _published_responses().iterator(chunk_size=CHUNK):
        content = r.content
        if r.output_type == OutputType.IMAGE and r.image:
            content = _copy_image(r, folder)
        yield {
            "id": f"r{r.pk}",
            "modelId": r.model.slug,
            "challengeId": r.challenge.slug,
            "type": r.output_type,
            "prompt": r.prompt,
            "content": content,
            "title": r.title,
            "funFact": r.note,
            "responseDate": r.collected_at.date().isoformat(),
            "inSiteIndex": True,
            "sourceFile": "",
            "metadata": None,
        }


def _copy_image(response: Response, folder: Path) -> str:
    """The response's image beside the JSON Lines (import_dataset reads it from there)."""
    name = f"images/{Path(response.image.name).name}"
    target = folder / name
    if not target.exists():
        with atomic_path(target) as temporary, response.image.open("rb") as source:
            temporary.write_bytes(source.read())
    return name


def write_jsonl_folder(root: Path) -> list[ExportedFile]:
    """models.jsonl, challenges.jsonl and responses.jsonl (with images) in `root/jsonl/`,
    readable by `manage.py import_dataset`."""
    folder = root / JSONL_DIR
    models = AIModel.objects.with_provider().prefetch_related("capabilities", "modalities")
    challenges = Challenge.objects.published().select_related("category").order_by("pk")
    counts = {
        "models.jsonl": write_jsonl(
            folder / "models.jsonl",
            (_model_record(m) for m in models.order_by("pk").iterator(chunk_size=CHUNK)),
        ),
        "challenges.jsonl": write_jsonl(
            folder / "challenges.jsonl",
            (_challenge_record(c) for c in challenges.iterator(chunk_size=CHUNK)),
        ),
        "responses.jsonl": write_jsonl(folder / "responses.jsonl", _response_records(folder)),
    }
    about = {
        "models.jsonl": "Every model in the catalog (import_dataset format).",
        "challenges.jsonl": "Published challenges (import_dataset format).",
        "responses.jsonl": "Published responses; image files under images/ (import_dataset "
        "format).",
    }
    return [
        _described(root, folder / name, "jsonl", about[name], rows) for name, rows in counts.items()
    ]


def write_responses(root: Path) -> list[ExportedFile]:
    """Everything the site publishes: the JSON Lines folder, and one flat responses table
    (model, creator and challenge columns included) as gzipped CSV and Parquet."""
    return [
        *write_jsonl_folder(root),
        *write_table(
            root,
            "responses",
            "Published responses with model, creator, challenge and reproducibility columns.",
            RESPONSE_COLUMNS,
            response_rows,
        ),
    ]


def write_manifest(root: Path, files: list[ExportedFile], *, built_at: str, licence: str) -> None:
    manifest = {"built_at": built_at, "licence": licence, "files": [asdict(f) for f in files]}
    with atomic_path(root / "manifest.json") as temporary:
        temporary.write_text(json.dumps(manifest, indent=2), encoding="utf-8")


def read_manifest(root: Path) -> dict | None:
    try:
        return json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
