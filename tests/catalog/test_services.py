from datetime import date

import pytest
from django.core.exceptions import ValidationError

from apps.catalog.models import AIModel, Gateway
from apps.catalog.services import (
    model_listed_upsert,
    model_retire,
    model_upsert,
    models_unlisted_deprecate,
    provider_ensure,
    tag_name,
)
from tests.factories import AIModelFactory, ProviderFactory

pytestmark = pytest.mark.django_db


def test_retiring_a_model_moves_it_to_the_graveyard_with_date_and_reason():
    model = AIModelFactory()
    model_retire(model=model, retired_on=date(2025, 7, 14), reason="  Removed from the API.  ")
    model.refresh_from_db()
    assert model.status == AIModel.Status.RETIRED
    assert model.retired_on == date(2025, 7, 14)
    assert model.retirement_reason == "Removed from the API."
    assert list(AIModel.objects.retired()) == [model]
    assert model not in AIModel.objects.listed()


def test_retiring_needs_a_reason():
    model = AIModelFactory()
    with pytest.raises(ValidationError):
        model_retire(model=model, retired_on=date(2025, 7, 14), reason="   ")
    model.refresh_from_db()
    assert model.status == AIModel.Status.ACTIVE


def test_upserting_a_model_refreshes_facts_but_keeps_curation_state():
    provider = ProviderFactory()
    model, created = model_upsert(
        slug="m",
        provider=provider,
        facts={"name": "Acme: M", "context_length": 1000},
        capabilities=["tool-use"],
        initial={"featured": True},
    )
    assert created
    AIModel.objects.filter(pk=model.pk).update(featured=False)
    model, created = model_upsert(
        slug="m",
        provider=provider,
        facts={"name": "Acme: M", "context_length": 2000},
        capabilities=["tool-use", "reasoning"],
        initial={"featured": True},
    )
    assert not created
    assert model.context_length == 2000
    assert model.featured is False
    assert sorted(model.capabilities.values_list("name", flat=True)) == ["Reasoning", "Tool Use"]


def test_ensuring_a_provider_keeps_an_existing_name_unless_asked_to_update():
    provider_ensure(slug="acme", name="ACME Labs")
    assert provider_ensure(slug="acme", name="Acme").name == "ACME Labs"
    assert provider_ensure(slug="acme", name="Acme", update=True).name == "Acme"


def test_tag_names_are_readable():
    assert tag_name("code-generation") == "Code Generation"
    assert tag_name("3d-modeling") == "3d Modeling"


def test_a_listed_model_gets_a_free_slug_and_its_modalities_are_only_ever_added():
    gateway = Gateway.objects.create(name="listing", kind=Gateway.Kind.OPENAI)
    provider = ProviderFactory()
    AIModelFactory(slug="acme-rocket")

    model, created = model_listed_upsert(
        gateway=gateway,
        gateway_model_id="acme/rocket",
        slug="acme-rocket",
        provider=provider,
        facts={"name": "Acme: Rocket", "context_length": 8192},
        modalities=["text", "vision"],
    )
    again, created_again = model_listed_upsert(
        gateway=gateway,
        gateway_model_id="acme/rocket",
        slug="acme-rocket",
        provider=provider,
        facts={"name": "Acme: Rocket 2", "context_length": None},
        modalities=["text"],
    )

    assert created and not created_again and again.pk == model.pk
    assert again.slug == "acme-rocket-2"
    assert again.name == "Acme: Rocket 2" and again.context_length == 8192
    assert set(again.modalities.values_list("name", flat=True)) == {"Text", "Vision"}


def test_unlisted_models_are_deprecated_but_retired_ones_stay_retired():
    gateway = Gateway.objects.create(name="listing", kind=Gateway.Kind.OPENAI)
    listed = AIModelFactory(gateway=gateway, gateway_model_id="a/listed")
    gone = AIModelFactory(gateway=gateway, gateway_model_id="a/gone")
    retired = AIModelFactory(
        gateway=gateway,
        gateway_model_id="a/old",
        status="retired",
        retired_on=date(2025, 1, 1),
        retirement_reason="Gone.",
    )

    assert models_unlisted_deprecate(gateway=gateway, listed={"a/listed"}) == [gone.slug]

    statuses = dict(AIModel.objects.values_list("pk", "status"))
    assert statuses == {listed.pk: "active", gone.pk: "deprecated", retired.pk: "retired"}
