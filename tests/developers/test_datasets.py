"""Open datasets: what the export writes, that import_dataset reads it back, that rebuilds
are atomic, and the download pages."""

import csv
import gzip
import hashlib
import json
import threading
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command

from apps.arena.models import Battle, LeaderboardSnapshot
from apps.catalog.models import AIModel, Provider
from apps.challenges.models import Category, Challenge
from apps.developers import datasets
from apps.developers.tasks import export_datasets
from apps.responses.models import Response
from tests.factories import ResponseFactory

pytestmark = pytest.mark.django_db


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def built(hub, tmp_path):
    return tmp_path, datasets.build(tmp_path)


def test_manifest_lists_every_file_with_rows_size_and_digest(built):
    root, manifest = built
    files = {f["name"]: f for f in manifest["files"]}
    assert set(files) == {
        "jsonl/models.jsonl",
        "jsonl/challenges.jsonl",
        "jsonl/responses.jsonl",
        "responses.csv.gz",
        "responses.parquet",
        "votes.csv.gz",
        "votes.parquet",
    }
    assert files["responses.parquet"]["rows"] == 6
    assert files["votes.csv.gz"]["rows"] == 13
    for name, item in files.items():
        assert item["sha256"] == sha256(root / name)
        assert item["bytes"] == (root / name).stat().st_size
    assert manifest["licence"] and manifest["built_at"]
    assert not list(root.rglob("*.tmp"))


def test_responses_tables_hold_published_responses_only(built):
    root, _ = built
    table = pq.read_table(root / "responses.parquet").to_pylist()
    assert {(r["model"], r["challenge"]) for r in table} == {
        ("alpha", "fizzbuzz"),
        ("beta", "fizzbuzz"),
        ("gamma", "fizzbuzz"),
        ("alpha", "haiku"),
        ("beta", "haiku"),
        ("old", "haiku"),
    }
    assert all(r["content"] != "unpublished secret" for r in table)
    assert table[0]["tokens_out"] == 300 and table[0]["creator"] in ("acme", "zenith")
    with gzip.open(root / "responses.csv.gz", "rt", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [r["id"] for r in rows] == [str(r["id"]) for r in table]


def test_votes_carry_nothing_personal(built):
    root, _ = built
    votes = pq.read_table(root / "votes.parquet")
    assert votes.column_names == ["battle", "model_a", "model_b", "outcome", "category", "date"]
    with gzip.open(root / "votes.csv.gz", "rt") as stream:
        text = stream.read()
    assert "10.0.0.1" not in text and "voter-x" not in text
    assert set(votes.column("outcome").to_pylist()) == {"a", "b", "tie"}


def test_jsonl_round_trips_through_import_dataset_into_an_empty_database(built):
    root, _ = built

    def rows():
        return sorted(
            Response.objects.visible().values_list(
                "model__slug",
                "challenge__slug",
                "output_type",
                "prompt",
                "content",
                "title",
                "note",
                "collected_at__date",
            )
        )

    before = rows()
    Battle.objects.all().delete()
    LeaderboardSnapshot.objects.all().delete()
    Response.objects.all().delete()
    AIModel.objects.all().delete()
    Challenge.objects.all().delete()
    Category.objects.all().delete()
    Provider.objects.all().delete()
    assert rows() == []
    call_command("import_dataset", str(root / "jsonl"))
    assert rows() == before
    alpha = AIModel.objects.get(slug="alpha")
    assert sorted(alpha.modalities.values_list("slug", flat=True)) == ["text", "vision"]
    assert Challenge.objects.get(slug="fizzbuzz").category.slug == "coding"


def test_a_reader_during_a_rebuild_gets_the_old_or_the_new_file_whole(built, hub):
    root, manifest = built
    path = root / "responses.csv.gz"
    old = sha256(path)
    for i in range(300):
        ResponseFactory(content="x" * (i % 50) * 40)
    seen, stop = [], threading.Event()

    def read():
        while not stop.is_set():
            seen.append(hashlib.sha256(path.read_bytes()).hexdigest())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        datasets.build(root)
    finally:
        stop.set()
        reader.join()
    new = sha256(path)
    assert new != old
    assert seen and set(seen) <= {old, new}


def test_the_daily_task_builds_into_datasets_dir(hub, tmp_path, settings):
    settings.DATASETS_DIR = tmp_path
    export_datasets()
    assert datasets.current()["files"]
    beat = django_settings.CELERY_BEAT_SCHEDULE["developers-export-datasets"]
    assert beat["task"] == "apps.developers.tasks.export_datasets"


def test_export_command_writes_into_a_folder(hub, tmp_path):
    call_command("export_dataset", str(tmp_path / "out"))
    assert json.loads((tmp_path / "out/manifest.json").read_text())["files"]


def test_datasets_page_and_downloads(client, built, settings):
    root, manifest = built
    settings.DATASETS_DIR = root
    page = client.get("/datasets/").content.decode()
    for item in manifest["files"]:
        assert f'href="/datasets/{item["name"]}"' in page
        assert item["sha256"] in page
    answer = client.get("/datasets/votes.parquet")
    assert answer.status_code == 200
    body = b"".join(answer.streaming_content)
    assert hashlib.sha256(body).hexdigest() == sha256(root / "votes.parquet")
    assert answer["Access-Control-Allow-Origin"] == "*" and answer["Last-Modified"]
    again = client.get(
        "/datasets/votes.parquet", headers={"if-modified-since": answer["Last-Modified"]}
    )
    assert again.status_code == 304
    for name in ("manifest.json", "../../etc/passwd", "jsonl/../manifest.json", "nothing.csv"):
        assert client.get(f"/datasets/{name}").status_code == 404


def test_datasets_page_before_the_first_build(client, tmp_path, settings):
    settings.DATASETS_DIR = tmp_path
    assert "not been built yet" in client.get("/datasets/").content.decode()
