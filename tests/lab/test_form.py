import pytest
from django.urls import reverse

from apps.catalog.models import AIModel, Gateway
from apps.lab.models import LabRun
from tests.factories import AIModelFactory

URL = reverse("lab:index")


def post(client, models, prompt="Explain tides to a child.", **extra):
    return client.post(URL, {"prompt": prompt, "models": [m.pk for m in models], **extra})


def test_the_form_shows_the_character_limit_and_the_demo_models(client, demo_models, settings):
    settings.LAB_MAX_PROMPT_CHARS = 1234
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'maxlength="1234"' in html
    assert "Up to 1,234 characters" in html
    for model in demo_models:
        assert model.name in html
    for hint in ("Text", "Code", "HTML page", "SVG image"):
        assert hint in html


def test_an_oversized_prompt_re_renders_with_a_message_and_queues_nothing(
    client, demo_models, settings, django_capture_on_commit_callbacks
):
    settings.LAB_MAX_PROMPT_CHARS = 100
    with django_capture_on_commit_callbacks() as callbacks:
        page = post(client, demo_models[:2], prompt="x" * 101)
    assert page.status_code == 400
    assert "it has 101 characters and the Lab takes at most 100" in page.content.decode()
    assert "x" * 101 in page.content.decode(), "the visitor's prompt is kept in the form"
    assert LabRun.objects.count() == 0
    assert callbacks == []


def test_the_lab_limit_never_exceeds_the_site_limit():
    from django.conf import settings

    assert settings.LAB_MAX_PROMPT_CHARS <= settings.RIVAL_MAX_PROMPT_CHARS


@pytest.mark.parametrize("count", [0, 1, 5])
def test_too_few_or_too_many_models_are_refused(client, db, count):
    models = AIModelFactory.create_batch(count)
    page = post(client, models)
    assert page.status_code == 400
    assert "Choose 2 to 4 models" in page.content.decode()
    assert LabRun.objects.count() == 0


def test_an_unknown_model_is_refused(client, demo_models):
    page = client.post(URL, {"prompt": "Hi there", "models": [demo_models[0].pk, 999_999_999]})
    assert page.status_code == 400
    assert "One of the chosen models is not available in the Lab." in page.content.decode()
    assert LabRun.objects.count() == 0


def test_a_malformed_model_id_is_refused(client, demo_models):
    page = client.post(URL, {"prompt": "Hi there", "models": [demo_models[0].pk, "x'; --"]})
    assert page.status_code == 400
    assert "not available in the Lab" in page.content.decode()


def test_an_empty_prompt_and_a_bad_hint_are_refused(client, demo_models):
    page = post(client, demo_models[:2], prompt="   ", output_type="exe")
    assert page.status_code == 400
    html = page.content.decode()
    assert "Write a prompt for the models to answer." in html
    assert "Choose one of the listed output hints." in html
    assert LabRun.objects.count() == 0


def test_retired_and_paid_models_are_not_offered_by_default(client, demo_models, monkeypatch):
    monkeypatch.setenv("LAB_TEST_PAID_KEY", "sk-test")
    paid = Gateway.objects.create(name="paid", kind="openai", api_key_env="LAB_TEST_PAID_KEY")
    on_paid = AIModelFactory(name="Paid: Model", gateway=paid)
    retired = AIModelFactory(
        name="Old: Model", status=AIModel.Status.RETIRED, retired_on="2025-01-01"
    )
    html = client.get(URL).content.decode()
    assert on_paid.name not in html
    assert retired.name not in html

    page = post(client, [demo_models[0], on_paid])
    assert page.status_code == 400
    assert LabRun.objects.count() == 0


def test_paid_models_are_offered_only_when_opted_in_and_their_key_is_set(
    client, demo_models, settings, monkeypatch
):
    settings.LAB_ALLOW_PAID_GATEWAYS = True
    url = "http://127.0.0.1:9/v1"
    keyed = Gateway.objects.create(
        name="keyed", kind="openai", base_url=url, api_key_env="LAB_TEST_KEY_SET"
    )
    unkeyed = Gateway.objects.create(
        name="unkeyed", kind="openai", base_url=url, api_key_env="LAB_TEST_KEY_UNSET"
    )
    # Set, but with nowhere to send the request: not offered either.
    unreachable = Gateway.objects.create(
        name="unreachable", kind="openai", api_key_env="LAB_TEST_KEY_SET"
    )
    monkeypatch.setenv("LAB_TEST_KEY_SET", "sk-test")
    monkeypatch.delenv("LAB_TEST_KEY_UNSET", raising=False)
    with_key = AIModelFactory(name="Keyed: Model", gateway=keyed)
    without_key = AIModelFactory(name="Unkeyed: Model", gateway=unkeyed)
    without_url = AIModelFactory(name="Nowhere: Model", gateway=unreachable)
    html = client.get(URL).content.decode()
    assert with_key.name in html
    assert without_key.name not in html
    assert without_url.name not in html
    assert "sk-test" not in html


def test_line_breaks_count_as_one_character_like_the_browser_counts_them(
    client, demo_models, settings, django_capture_on_commit_callbacks
):
    settings.LAB_MAX_PROMPT_CHARS = 10
    with django_capture_on_commit_callbacks():
        page = post(client, demo_models[:2], prompt="ab\r\ncd\r\nef\r\n")
    assert page.status_code == 302
    assert LabRun.objects.get().prompt == "ab\ncd\nef"
