import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from apps.catalog.models import AIModel, Provider
from apps.challenges.models import Challenge
from apps.responses.models import Response
from tests.factories import AIModelFactory, ChallengeFactory, ResponseFactory
from tests.utils import rival_early_dir

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "import"
VALID = FIXTURES / "valid"
BROKEN = FIXTURES / "broken"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def import_dataset(directory: Path, *args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_dataset", str(directory), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def counts() -> tuple[int, int, int]:
    return AIModel.objects.count(), Challenge.objects.count(), Response.objects.count()


def stored_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


# --- the shared rival-early dataset -----------------------------------------------------------

RIVAL_EARLY = rival_early_dir()
needs_rival_early = pytest.mark.skipif(
    RIVAL_EARLY is None,
    reason="the rival-early dataset is absent: put it at ../shared/data/rival-early beside the "
    "repository or name its folder in RIVAL_EARLY_DIR",
)


@needs_rival_early
def test_rival_early_with_skip_invalid_imports_every_valid_record():
    out, err = import_dataset(RIVAL_EARLY, "--skip-invalid")
    assert counts() == (39, 27, 379)
    assert "Imported 39 models, 27 challenges, 379 responses" in out


@needs_rival_early
def test_rival_early_report_names_the_four_responses_without_a_challenge_by_file_and_line():
    _, err = import_dataset(RIVAL_EARLY, "--skip-invalid")
    problems = [line for line in err.splitlines() if line.startswith("responses.jsonl:")]
    assert [p.split(":")[1] for p in problems] == ["52", "219", "242", "375"]
    for line_number, response_id in [
        (52, "claude-sonnet-movie-analysis"),
        (219, "gpt4o-website-landing-page"),
        (242, "gpt-4o-mini-website-landing-page"),
        (375, "optimus-alpha-website-landing-page"),
    ]:
        assert any(
            p.startswith(f"responses.jsonl:{line_number}: ") and response_id in p for p in problems
        )
    assert "models.jsonl" not in err
    assert "challenges.jsonl" not in err


@needs_rival_early
def test_rival_early_without_skip_invalid_writes_nothing_and_fails_with_the_report():
    with pytest.raises(CommandError) as failure:
        import_dataset(RIVAL_EARLY)
    assert "responses.jsonl:52: challengeId is null" in str(failure.value)
    assert counts() == (0, 0, 0)


@needs_rival_early
def test_rival_early_records_keep_their_exact_values(media_root):
    import_dataset(RIVAL_EARLY, "--skip-invalid")

    grok = AIModel.objects.select_related("provider").get(slug="grok-3")
    assert grok.name == "Grok 3"
    assert (grok.provider.slug, grok.provider.name) == ("xai", "xAI")
    assert grok.release_date == date(2025, 2, 18)
    assert grok.context_length == 128_000
    assert grok.parameters_note == "2.7T"
    assert grok.size_class == AIModel.Size.XLARGE
    assert AIModel.objects.get(slug="claude-3-5-sonnet").release_date == date(2024, 6, 1)
    assert AIModel.objects.get(slug="midjourney-v6-1").name == "Midjourney v6.1"
    assert AIModel.objects.get(slug="llama-4-behemoth").release_date is None

    count_letters = Challenge.objects.select_related("category").get(slug="count-letters")
    assert count_letters.category.slug == "reasoning"
    assert count_letters.output_type == "text"
    assert count_letters.difficulty == "easy"
    assert Challenge.objects.get(slug="minimalist-landing-page").output_type == "html"

    answer = Response.objects.get(model__slug="chatgpt-4o-03-25", challenge__slug="count-letters")
    assert answer.content == 'There are **4** L\'s in **"LOLLAPALOOZA"**.'
    assert answer.prompt == 'How many "L" are in "LOLLAPALOOZA"'
    assert answer.collected_at == datetime(2025, 3, 30, tzinfo=UTC)
    assert answer.source == Response.Source.IMPORT
    assert answer.settings["dataset_id"] == "chatgpt-4o-03-25-count-letters"

    image = Response.objects.get(model__slug="dalle-3", challenge__slug="fantasy-character")
    assert image.output_type == "image"
    assert image.settings["metadata"] == {"params": "DALL-E 3, Size: 1792x1024, Quality: HD"}
    source = RIVAL_EARLY / "images" / "dalle-3" / "fantasy-character.png"
    assert (media_root / image.image.name).read_bytes() == source.read_bytes()
    assert image.image_width > 0 and image.image_height > 0


# --- the repository's own fixtures ------------------------------------------------------------


def test_a_broken_dataset_is_reported_line_by_line_and_nothing_is_written():
    with pytest.raises(CommandError) as failure:
        import_dataset(BROKEN)
    report = str(failure.value)
    assert "nothing was imported" in report
    assert "models.jsonl:2: malformed JSON" in report
    assert "models.jsonl:3: size must be one of large, medium, small, xlarge; got 'gigantic'" in (
        report
    )
    assert "challenges.jsonl:2: expectedOutputType must be one of" in report
    assert "challenges.jsonl:3: expected a JSON object" in report
    assert "responses.jsonl:1: modelId 'ghost' is not a valid model" in report
    assert "responses.jsonl:2: responseDate must be YYYY-MM-DD; got '10 March 2025'" in report
    assert "responses.jsonl:3: image file is missing: images/nowhere.png" in report
    assert counts() == (0, 0, 0)
    assert Provider.objects.count() == 0


def test_skip_invalid_imports_the_valid_records_of_a_broken_dataset():
    _, err = import_dataset(BROKEN, "--skip-invalid")
    assert "models.jsonl:2: malformed JSON" in err
    assert counts() == (1, 1, 0)


def test_a_valid_dataset_imports_every_record():
    out, err = import_dataset(VALID)
    assert err == ""
    assert counts() == (2, 3, 3)
    model = AIModel.objects.get(slug="wordsmith-2")
    assert model.provider.name == "Acme"
    assert model.featured is True
    assert sorted(model.capabilities.values_list("slug", flat=True)) == [
        "code-generation",
        "conversation",
    ]
    haiku = Response.objects.get(model=model, challenge__slug="haiku-about-rain")
    assert haiku.note == "Written on the first try."
    assert haiku.prompt == "Write a haiku about rain!"
    assert haiku.is_published


def test_a_response_the_original_site_did_not_show_is_imported_unpublished():
    import_dataset(VALID)
    page = Response.objects.get(challenge__slug="tiny-landing-page")
    assert page.output_type == "html"
    assert page.is_published is False


def test_an_image_is_stored_through_the_storage_api(media_root):
    import_dataset(VALID)
    response = Response.objects.get(model__slug="pixel-painter-1-5")
    source = VALID / "images" / "pixel-painter-1.5" / "red-square.png"
    assert response.image.name.startswith("responses/import/pixel-painter-1-5/red-square-")
    assert response.image.read() == source.read_bytes()
    assert (response.image_width, response.image_height) == (8, 6)


def test_importing_twice_changes_nothing_and_stores_each_image_once(media_root):
    import_dataset(VALID)
    first = counts()
    files = stored_files(media_root)
    response = Response.objects.get(model__slug="wordsmith-2", challenge__slug="haiku-about-rain")
    out, _ = import_dataset(VALID)
    assert counts() == first
    assert stored_files(media_root) == files
    assert len(files) == 1
    assert "(0 new image files)" in out
    assert Response.objects.get(pk=response.pk).content == response.content


def test_reimporting_keeps_a_curators_unpublishing():
    import_dataset(VALID)
    Response.objects.filter(model__slug="wordsmith-2").update(is_published=False)
    Challenge.objects.filter(slug="haiku-about-rain").update(is_published=False)
    import_dataset(VALID)
    assert not Response.objects.filter(model__slug="wordsmith-2", is_published=True).exists()
    assert not Challenge.objects.get(slug="haiku-about-rain").is_published


def test_a_pair_already_answered_elsewhere_keeps_its_published_response():
    model = AIModelFactory(slug="wordsmith-2")
    challenge = ChallengeFactory(slug="haiku-about-rain")
    demo = ResponseFactory(model=model, challenge=challenge)
    _, err = import_dataset(VALID)
    assert "responses.jsonl:1: wordsmith-2 already has a published response" in err
    imported = Response.objects.get(model=model, challenge=challenge, source="import")
    assert imported.is_published is False
    demo.refresh_from_db()
    assert demo.is_published


def test_a_missing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="is not a directory"):
        import_dataset(tmp_path / "nowhere")


def test_a_missing_file_is_reported(tmp_path):
    (tmp_path / "models.jsonl").write_text((VALID / "models.jsonl").read_text())
    with pytest.raises(CommandError) as failure:
        import_dataset(tmp_path)
    assert "challenges.jsonl: file is missing" in str(failure.value)
