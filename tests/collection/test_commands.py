import pytest
from django.core.management import CommandError, call_command

from apps.collection.models import CollectionRun
from tests.factories import AIModelFactory, ChallengeFactory

pytestmark = pytest.mark.django_db


def test_dry_run_prints_the_calls_and_the_estimated_cost_and_sends_nothing(
    fake_provider, make_gateway, capsys
):
    fake = fake_provider()
    model = AIModelFactory(gateway=make_gateway(fake), gateway_model_id="acme/rocket-1")
    challenge = ChallengeFactory()

    call_command("collect", challenge=challenge.slug, dry_run=True)

    out = capsys.readouterr().out
    assert f"acme/rocket-1 × {challenge.slug}" in out
    assert "1 calls, estimated cost $0.004" in out
    assert not CollectionRun.objects.exists()
    assert fake.requests() == []
    assert model


def test_an_oversized_prompt_is_refused_before_any_call(settings):
    settings.RIVAL_MAX_PROMPT_CHARS = 10
    AIModelFactory()
    challenge = ChallengeFactory(prompt="far more than ten characters")

    with pytest.raises(CommandError, match="limit is 10"):
        call_command("collect", challenge=challenge.slug)
    assert not CollectionRun.objects.exists()


def test_collect_refuses_a_run_whose_gateway_has_no_key(fake_provider, make_gateway, monkeypatch):
    gateway = make_gateway(fake_provider())
    monkeypatch.delenv(gateway.api_key_env)
    AIModelFactory(gateway=gateway)
    ChallengeFactory()

    with pytest.raises(CommandError, match=gateway.api_key_env):
        call_command("collect", missing=True)
