from decimal import Decimal

import pytest
from django.core.management import call_command

from apps.catalog.models import AIModel
from apps.datasets.catalog_sync import catalog_sync
from apps.gateways.fakeprovider import DEFAULT_MODELS
from tests.factories import AIModelFactory

pytestmark = pytest.mark.django_db


def test_sync_creates_models_with_prices_per_million_and_modalities(fake_provider, make_gateway):
    gateway = make_gateway(fake_provider())

    result = catalog_sync(gateway)

    assert len(result.created) == 2
    rocket = AIModel.objects.get(gateway=gateway, gateway_model_id="acme/rocket-1")
    assert rocket.provider.slug == "acme" and rocket.provider.name == "Acme"
    assert rocket.name == "Acme: Rocket 1"
    assert rocket.price_input_per_mtok == Decimal("1.0000")
    assert rocket.price_output_per_mtok == Decimal("4.0000")
    assert rocket.context_length == 128000
    assert rocket.release_date.isoformat() == "2025-01-01"
    assert set(rocket.modalities.values_list("slug", flat=True)) == {"text", "vision", "multimodal"}


def test_sync_updates_and_deprecates_but_never_deletes(fake_provider, make_gateway):
    fake = fake_provider()
    gateway = make_gateway(fake)
    catalog_sync(gateway)
    gone = AIModelFactory(gateway=gateway, gateway_model_id="old/model")
    fake.models = [{**DEFAULT_MODELS[0], "pricing": {"prompt": "0.000002", "completion": "0"}}]

    result = catalog_sync(gateway)

    assert len(result.updated) == 2 - 1
    assert set(result.deprecated) == {gone.slug, "zenith-zen-small"}
    gone.refresh_from_db()
    assert gone.status == AIModel.Status.DEPRECATED
    rocket = AIModel.objects.get(gateway_model_id="acme/rocket-1")
    assert rocket.price_input_per_mtok == Decimal("2.0000")
    assert AIModel.objects.filter(gateway=gateway).count() == 3


def test_sync_catalog_command_reports_counts(fake_provider, make_gateway, capsys):
    gateway = make_gateway(fake_provider())

    call_command("sync_catalog", gateway=gateway.name)

    assert "2 created, 0 updated, 0 deprecated" in capsys.readouterr().out
