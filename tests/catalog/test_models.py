from decimal import Decimal

import pytest
from django.db import IntegrityError

from apps.catalog.models import AIModel, Gateway
from tests.factories import AIModelFactory, ProviderFactory

pytestmark = pytest.mark.django_db


def test_model_slugs_are_unique():
    AIModelFactory(slug="same")
    with pytest.raises(IntegrityError):
        AIModelFactory(slug="same")


def test_provider_slugs_are_unique():
    ProviderFactory(slug="acme")
    with pytest.raises(IntegrityError):
        ProviderFactory._meta.model.objects.create(slug="acme", name="Acme again")


def test_negative_prices_are_refused_by_the_database():
    with pytest.raises(IntegrityError):
        AIModelFactory(price_input_per_mtok=Decimal("-1"))


def test_a_retired_model_needs_a_retirement_date():
    with pytest.raises(IntegrityError):
        AIModelFactory(status=AIModel.Status.RETIRED, retired_on=None)


def test_short_name_drops_the_creator_prefix():
    model = AIModelFactory.build(name="Qwen: Qwen3.5 122B A10B")
    assert model.short_name == "Qwen3.5 122B A10B"


def test_migrations_create_the_demo_and_openrouter_gateways():
    openrouter = Gateway.objects.get(name="openrouter")
    assert openrouter.kind == Gateway.Kind.OPENAI
    assert openrouter.api_key_env == "OPENROUTER_API_KEY"
    assert openrouter.base_url_env == "OPENROUTER_BASE_URL"
    assert Gateway.objects.get(name="demo").kind == Gateway.Kind.DEMO
