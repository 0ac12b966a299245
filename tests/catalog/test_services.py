from datetime import date

import pytest
from django.core.exceptions import ValidationError

from apps.catalog.models import AIModel
from apps.catalog.services import model_retire, model_upsert, provider_ensure, tag_name
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
