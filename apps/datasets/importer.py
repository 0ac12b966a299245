"""Import a dataset in the rival-early JSON Lines format.

A folder holds `models.jsonl`, `challenges.jsonl` and `responses.jsonl` (one JSON object per
line) and the images that image responses name. Reading validates every record — required
fields, types, enumerations, references — and collects problems as `file:line: message`;
writing happens only afterwards, in one transaction, so invalid data never half-lands.

Mapping decisions:
- Dataset ids become our slugs; a dot, which our URLs do not allow, becomes a dash
  (`midjourney-v6.1` → `midjourney-v6-1`).
- `website` is our `html` output type. Models keep their `name` as given and their free-text
  `parametersCount` as `parameters_note` (the dataset's figures are unverified, so nothing is
  parsed into exact counts); a `url` of `#`, the source's placeholder, means none.
- Providers and categories are created from their ids with readable names; rows that already
  exist keep their names.
- Responses: `responseDate` is `collected_at` (midnight UTC), `funFact` the note, the dataset
  id, source file and `metadata` go into `settings`. `inSiteIndex: false` — the original site
  did not show the response — imports it unpublished. Publication state is set only when a row
  is created, so re-importing never undoes a curator's (un)publishing.
- A pair that already has a published response from elsewhere (the demo gateway, a provider)
  keeps it; the imported one is stored unpublished and reported as a note.
- Images are copied through Django's storage API under a name that includes a hash of their
  content, so a re-import reuses the stored file instead of writing a copy.
"""

import json
import re
import warnings
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path, PurePosixPath

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from PIL import Image, UnidentifiedImageError

from apps.catalog.models import AIModel
from apps.catalog.services import model_upsert, provider_ensure, tag_name
from apps.challenges.models import Challenge, OutputType
from apps.challenges.services import category_ensure, challenge_upsert
from apps.responses.services import response_import, responses_release

FILES = ("models.jsonl", "challenges.jsonl", "responses.jsonl")

PROVIDER_NAMES = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "google": "Google",
    "xai": "xAI",
    "meta": "Meta",
    "mistral": "Mistral AI",
    "midjourney": "Midjourney",
    "deepseek": "DeepSeek",
    "openrouter": "OpenRouter",
    "qwen": "Qwen",
    "moonshotai": "Moonshot AI",
    "z-ai": "Z.ai",
}

OUTPUT_TYPES = {"website": OutputType.HTML, **{value: value for value in OutputType.values}}
SIZES = set(AIModel.Size.values)
DIFFICULTIES = set(Challenge.Difficulty.values)
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
# Hostile folders: an image may claim billions of pixels in a few bytes (a decompression
# bomb), a number may have thousands of digits, a line may not be UTF-8, and a file may be a
# link to somewhere else on the server. Each is a problem on its line, never a crash.
MAX_IMAGE_PIXELS = 40_000_000
MAX_IMAGE_BYTES = 20 * 1024 * 1024
MAX_INTEGER = 2**31 - 1
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MONTH_RE = re.compile(r"^\d{4}-\d{2}$")


class Invalid(Exception):
    """One record's problem; the message names the field."""


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return (
            f"{self.file}:{self.line}: {self.message}"
            if self.line
            else (f"{self.file}: {self.message}")
        )


@dataclass
class Dataset:
    """The valid records of a folder, by kind, and the problems found on the way."""

    directory: Path
    models: list[dict] = field(default_factory=list)
    challenges: list[dict] = field(default_factory=list)
    responses: list[dict] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


@dataclass
class ImportResult:
    models: int = 0
    challenges: int = 0
    responses: int = 0
    images: int = 0
    notes: list[str] = field(default_factory=list)


# --- reading and validation -------------------------------------------------------------------


def slug_of(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid(f"{name} must be a non-empty string")
    slug = value.replace(".", "-")
    if not SLUG_RE.match(slug) or len(slug) > 120:
        raise Invalid(f"{name} {value!r} cannot become a slug (letters, digits, - and _ only)")
    return slug


def text(record: dict, name: str, *, required: bool = False, max_length: int = 0) -> str:
    value = record.get(name)
    if value is None:
        if required:
            raise Invalid(f"{name} is required")
        return ""
    if not isinstance(value, str):
        raise Invalid(f"{name} must be a string, not {type(value).__name__}")
    if required and not value.strip():
        raise Invalid(f"{name} must not be empty")
    if max_length and len(value) > max_length:
        raise Invalid(f"{name} is longer than {max_length} characters")
    return value


def string_list(record: dict, name: str) -> list[str]:
    value = record.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise Invalid(f"{name} must be a list of strings")
    return [slug_of(item, f"{name} item") for item in value]


def choice(record: dict, name: str, allowed, *, required: bool = False) -> str:
    value = record.get(name)
    if value is None and not required:
        return ""
    if value not in allowed:
        raise Invalid(f"{name} must be one of {', '.join(sorted(allowed))}; got {value!r}")
    return value


def inside(directory: Path, path: Path) -> bool:
    """True when `path`, links followed, is within `directory`: a link out of the folder
    (to /etc/passwd, say) is never read."""
    return path.resolve().is_relative_to(directory.resolve())


def read_lines(path: Path, dataset: Dataset) -> list[tuple[int, dict]]:
    """The JSON objects of a JSON Lines file with their line numbers; bad lines (malformed
    JSON, not UTF-8, integers too long to convert) are problems."""
    if not path.is_file():
        dataset.problems.append(Problem(path.name, 0, "file is missing"))
        return []
    if not inside(dataset.directory, path):
        dataset.problems.append(Problem(path.name, 0, "file links outside the folder"))
        return []
    rows = []
    with path.open("rb") as lines:
        for number, raw_line in enumerate(lines, start=1):
            try:
                line = raw_line.decode("utf-8")
            except UnicodeDecodeError as exc:
                message = f"not UTF-8 (byte {exc.start + 1})"
                dataset.problems.append(Problem(path.name, number, message))
                continue
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                message = f"malformed JSON: {exc.msg} (column {exc.colno})"
                dataset.problems.append(Problem(path.name, number, message))
                continue
            except ValueError:
                # Python refuses to convert integers of thousands of digits.
                dataset.problems.append(Problem(path.name, number, "a number is too long"))
                continue
            if not isinstance(value, dict):
                dataset.problems.append(Problem(path.name, number, "expected a JSON object"))
                continue
            rows.append((number, value))
    return rows


def _validated(path: Path, dataset: Dataset, parse) -> list[dict]:
    records, first_line = [], {}
    for number, raw in read_lines(path, dataset):
        try:
            record = parse(raw)
        except Invalid as exc:
            label = f" ({raw['id']})" if isinstance(raw.get("id"), str) else ""
            dataset.problems.append(Problem(path.name, number, f"{exc}{label}"))
            continue
        if record["slug"] in first_line:
            message = f"duplicate id {raw['id']!r} (first on line {first_line[record['slug']]})"
            dataset.problems.append(Problem(path.name, number, message))
            continue
        first_line[record["slug"]] = number
        records.append({**record, "line": number})
    return records


def parse_model(raw: dict) -> dict:
    released = raw.get("released")
    release_date = None
    if released is not None:
        if isinstance(released, str) and DATE_RE.match(released):
            release_date = _date(released, "released")
        elif isinstance(released, str) and MONTH_RE.match(released):
            release_date = _date(f"{released}-01", "released")
        else:
            raise Invalid(f"released must be YYYY-MM-DD, YYYY-MM or null; got {released!r}")
    context = raw.get("contextWindow")
    if context is not None and (
        not isinstance(context, int) or isinstance(context, bool) or context < 0
    ):
        raise Invalid("contextWindow must be a non-negative integer or null")
    if context is not None and context > MAX_INTEGER:
        raise Invalid(f"contextWindow is too large (at most {MAX_INTEGER})")
    featured = raw.get("featured")
    if featured is not None and not isinstance(featured, bool):
        raise Invalid("featured must be true, false or null")
    url = text(raw, "url", max_length=200).strip()
    if url == "#":  # the source's placeholder for "no page"
        url = ""
    if url:
        try:
            URLValidator()(url)
        except ValidationError as exc:
            raise Invalid(f"url is not a valid URL: {url!r}") from exc
    return {
        "slug": slug_of(raw.get("id"), "id"),
        "provider": slug_of(raw.get("provider"), "provider"),
        "capabilities": string_list(raw, "capabilities"),
        "modalities": string_list(raw, "categories"),
        "featured": bool(featured),
        "facts": {
            "name": text(raw, "name", required=True, max_length=160),
            "description": text(raw, "description"),
            "release_date": release_date,
            "size_class": choice(raw, "size", SIZES),
            "context_length": context,
            "parameters_note": text(raw, "parametersCount", max_length=120),
            "url": url,
        },
    }


def parse_challenge(raw: dict) -> dict:
    category = raw.get("category")
    return {
        "slug": slug_of(raw.get("id"), "id"),
        "category": None if category is None else slug_of(category, "category"),
        "fields": {
            "title": text(raw, "title", required=True, max_length=200),
            "description": text(raw, "description"),
            "prompt": text(raw, "prompt", required=True),
            "difficulty": choice(raw, "difficulty", DIFFICULTIES),
            "output_type": OUTPUT_TYPES[
                choice(raw, "expectedOutputType", OUTPUT_TYPES, required=True)
            ],
        },
    }


def parse_response(raw: dict) -> dict:
    if raw.get("challengeId") is None:
        raise Invalid("challengeId is null: the response belongs to no challenge")
    day = raw.get("responseDate")
    if not isinstance(day, str) or not DATE_RE.match(day):
        raise Invalid(f"responseDate must be YYYY-MM-DD; got {day!r}")
    metadata = raw.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise Invalid("metadata must be an object or null")
    in_index = raw.get("inSiteIndex", True)
    if not isinstance(in_index, bool):
        raise Invalid("inSiteIndex must be true or false")
    return {
        "slug": slug_of(raw.get("id"), "id"),
        "id": raw["id"],
        "model": slug_of(raw.get("modelId"), "modelId"),
        "challenge": slug_of(raw.get("challengeId"), "challengeId"),
        "output_type": OUTPUT_TYPES[choice(raw, "type", OUTPUT_TYPES, required=True)],
        "prompt": text(raw, "prompt", required=True),
        "content": text(raw, "content", required=True),
        "title": text(raw, "title", max_length=200),
        "note": text(raw, "funFact"),
        "collected_at": datetime.combine(_date(day, "responseDate"), time(0), tzinfo=UTC),
        "published": in_index,
        "source_file": text(raw, "sourceFile"),
        "metadata": metadata,
    }


def _date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(f"{name} is not a real date: {value!r}") from exc


def _image_path(directory: Path, content: str) -> Path:
    relative = PurePosixPath(content)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise Invalid(f"image path must be relative and inside the folder: {content!r}")
    if relative.suffix.lower() not in IMAGE_SUFFIXES:
        raise Invalid(f"image path must name an image file: {content!r}")
    path = directory.joinpath(*relative.parts)
    if not path.is_file():
        raise Invalid(f"image file is missing: {content}")
    if not inside(directory, path):
        raise Invalid(f"image file links outside the folder: {content}")
    if path.stat().st_size > MAX_IMAGE_BYTES:
        raise Invalid(f"image file is larger than {MAX_IMAGE_BYTES // 2**20} MB: {content}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise Invalid(
                        f"image has {width}×{height} pixels, more than {MAX_IMAGE_PIXELS:,}: "
                        f"{content}"
                    )
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Invalid(f"image claims too many pixels (a decompression bomb): {content}") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise Invalid(f"image file is not a readable image: {content}") from exc
    return path


def dataset_read(directory: Path) -> Dataset:
    """Read and validate a folder. Reads the database only to resolve references to models
    and challenges that the folder itself does not define."""
    dataset = Dataset(directory=directory)
    dataset.models = _validated(directory / "models.jsonl", dataset, parse_model)
    dataset.challenges = _validated(directory / "challenges.jsonl", dataset, parse_challenge)
    responses = _validated(directory / "responses.jsonl", dataset, parse_response)

    models = {m["slug"] for m in dataset.models}
    challenges = {c["slug"] for c in dataset.challenges}
    models |= set(
        AIModel.objects.filter(slug__in={r["model"] for r in responses}).values_list(
            "slug", flat=True
        )
    )
    challenges |= set(
        Challenge.objects.filter(slug__in={r["challenge"] for r in responses}).values_list(
            "slug", flat=True
        )
    )
    pairs: dict[tuple[str, str], int] = {}
    for record in responses:
        try:
            if record["model"] not in models:
                raise Invalid(f"modelId {record['model']!r} is not a valid model")
            if record["challenge"] not in challenges:
                raise Invalid(f"challengeId {record['challenge']!r} is not a valid challenge")
            pair = (record["model"], record["challenge"])
            if pair in pairs:
                raise Invalid(f"a second response for the same pair (first on line {pairs[pair]})")
            if record["output_type"] == OutputType.IMAGE:
                record["image_path"] = _image_path(directory, record["content"])
        except Invalid as exc:
            message = f"{exc} ({record['id']})"
            dataset.problems.append(Problem("responses.jsonl", record["line"], message))
            continue
        pairs[pair] = record["line"]
        dataset.responses.append(record)
    dataset.problems.sort(key=lambda p: (FILES.index(p.file) if p.file in FILES else 9, p.line))
    return dataset


# --- writing ----------------------------------------------------------------------------------


@transaction.atomic
def dataset_write(dataset: Dataset) -> ImportResult:
    """Upsert every valid record of a dataset, in one transaction. Idempotent."""
    result = ImportResult()
    providers = {}
    for record in dataset.models:
        slug = record["provider"]
        if slug not in providers:
            providers[slug] = provider_ensure(
                slug=slug, name=PROVIDER_NAMES.get(slug, tag_name(slug))
            )
        model_upsert(
            slug=record["slug"],
            provider=providers[slug],
            facts=record["facts"],
            capabilities=record["capabilities"],
            modalities=record["modalities"],
            initial={"featured": record["featured"]},
        )
        result.models += 1
    for record in dataset.challenges:
        category = None
        if record["category"]:
            category = category_ensure(slug=record["category"], name=tag_name(record["category"]))
        challenge_upsert(
            slug=record["slug"],
            fields={**record["fields"], "category": category},
            initial={"is_published": True},
        )
        result.challenges += 1
    models = {
        m.slug: m for m in AIModel.objects.filter(slug__in={r["model"] for r in dataset.responses})
    }
    challenges = {
        c.slug: c
        for c in Challenge.objects.filter(slug__in={r["challenge"] for r in dataset.responses})
    }
    imported_ids = []
    for record in dataset.responses:
        settings = {"dataset_id": record["id"], "source_file": record["source_file"]}
        if record["metadata"]:
            settings["metadata"] = record["metadata"]
        imported = response_import(
            model=models[record["model"]],
            challenge=challenges[record["challenge"]],
            fields={
                "prompt": record["prompt"],
                "output_type": record["output_type"],
                "content": record["content"],
                "title": record["title"],
                "note": record["note"],
                "collected_at": record["collected_at"],
                "settings": settings,
            },
            published=record["published"],
            image_path=record.get("image_path"),
        )
        if imported.kept_unpublished:
            result.notes.append(
                f"responses.jsonl:{record['line']}: {record['model']} already has a published "
                f"response to {record['challenge']}; the imported one is kept unpublished"
            )
        result.responses += 1
        result.images += imported.image_written
        imported_ids.append(imported.response.pk)
    # A dataset is readable elsewhere, so a blind pool of its answers would blind nothing: they
    # are public at once (docs/arena.md).
    responses_release(ids=imported_ids)
    return result
