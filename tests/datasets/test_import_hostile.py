"""import_dataset on hostile folders: every trick is a problem on its line, and in strict mode
(without --skip-invalid) nothing at all is written."""

import shutil
import struct
import zlib
from pathlib import Path

import pytest
from django.core.management import CommandError

from tests.datasets.test_import import VALID, counts, import_dataset, stored_files

pytestmark = pytest.mark.django_db

IMAGE = "images/pixel-painter-1.5/red-square.png"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def folder(tmp_path) -> Path:
    copy = tmp_path / "dataset"
    shutil.copytree(VALID, copy)
    return copy


def refused(folder: Path) -> str:
    """The strict import's report; asserts that it failed and wrote nothing."""
    with pytest.raises(CommandError) as failure:
        import_dataset(folder)
    assert counts() == (0, 0, 0)
    return str(failure.value)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny, well-formed PNG whose header claims width × height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00"))
        + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_image_is_a_problem_on_its_line(folder, media_root):
    (folder / IMAGE).write_bytes(png_claiming(200_000, 200_000))
    report = refused(folder)
    assert "responses.jsonl:3: image claims too many pixels" in report
    assert stored_files(media_root) == []


def test_an_image_over_the_pixel_cap_is_refused_before_it_is_decoded(folder):
    (folder / IMAGE).write_bytes(png_claiming(8_000, 8_000))
    assert "responses.jsonl:3: image has 8000×8000 pixels" in refused(folder)


def test_a_line_that_is_not_utf8_is_a_problem_on_its_line(folder):
    models = folder / "models.jsonl"
    models.write_bytes(models.read_bytes() + b'{"id": "caf\xe9", "name": "x"}\n')
    assert "models.jsonl:3: not UTF-8" in refused(folder)


def test_an_integer_of_thousands_of_digits_is_a_problem_not_a_crash(folder):
    models = folder / "models.jsonl"
    lines = models.read_text().splitlines()
    lines[0] = lines[0].replace('"contextWindow":128000', '"contextWindow":' + "9" * 5000)
    models.write_text("\n".join(lines) + "\n")
    assert "models.jsonl:1: a number is too long" in refused(folder)


def test_an_integer_too_large_for_the_column_is_a_problem(folder):
    models = folder / "models.jsonl"
    models.write_text(
        models.read_text().replace('"contextWindow":128000', '"contextWindow":' + str(2**40))
    )
    assert "models.jsonl:1: contextWindow is too large" in refused(folder)


def test_an_image_linking_outside_the_folder_is_never_read(folder, tmp_path, media_root):
    secret = tmp_path / "secret.png"
    secret.write_bytes((VALID / IMAGE).read_bytes())
    (folder / IMAGE).unlink()
    (folder / IMAGE).symlink_to(secret)
    assert "responses.jsonl:3: image file links outside the folder" in refused(folder)
    assert stored_files(media_root) == []


def test_a_data_file_linking_outside_the_folder_is_never_read(folder, tmp_path):
    outside = tmp_path / "elsewhere.jsonl"
    outside.write_text((VALID / "challenges.jsonl").read_text())
    (folder / "challenges.jsonl").unlink()
    (folder / "challenges.jsonl").symlink_to(outside)
    assert "challenges.jsonl: file links outside the folder" in refused(folder)
