import datetime
from decimal import Decimal

import pytest

from apps.catalog.models import AIModel
from tests.factories import (
    AIModelFactory,
    CapabilityFactory,
    CategoryFactory,
    ChallengeFactory,
    ModalityFactory,
    ProviderFactory,
    ResponseFactory,
)

pytestmark = pytest.mark.django_db


def names(page) -> list[str]:
    return [card.name for card in page.context["cards"]()]


def test_models_page_lists_catalog_models_but_not_the_graveyard(client):
    AIModelFactory(name="Acme: Live")
    AIModelFactory(name="Acme: Old", status=AIModel.Status.DEPRECATED)
    AIModelFactory(name="Acme: Gone", status=AIModel.Status.RETIRED, retired_on="2025-01-01")
    page = client.get("/models/")
    assert page.status_code == 200
    assert sorted(names(page)) == ["Acme: Live", "Acme: Old"]
    assert "2 models" in page.content.decode()


def test_status_filter_reaches_retired_models(client):
    AIModelFactory(name="Acme: Gone", status=AIModel.Status.RETIRED, retired_on="2025-01-01")
    AIModelFactory(name="Acme: Live")
    assert names(client.get("/models/?status=retired")) == ["Acme: Gone"]


def test_filters_combine_creator_capability_category_size_and_search(client):
    acme = ProviderFactory(slug="acme", name="Acme")
    reasoning = CapabilityFactory(slug="reasoning", name="Reasoning")
    vision = ModalityFactory(slug="vision", name="Vision")
    match = AIModelFactory(provider=acme, name="Acme: Thinker", size_class="small")
    match.capabilities.add(reasoning)
    match.modalities.add(vision)
    other_size = AIModelFactory(provider=acme, name="Acme: Thinker Big", size_class="large")
    other_size.capabilities.add(reasoning)
    other_size.modalities.add(vision)
    AIModelFactory(name="Other: Thinker", size_class="small")
    url = "/models/?creator=acme&capability=reasoning&category=vision&size=small&q=think"
    assert names(client.get(url)) == ["Acme: Thinker"]


def test_sorts_by_release_context_and_price(client):
    AIModelFactory(
        name="A",
        release_date=datetime.date(2024, 1, 1),
        context_length=1000,
        price_input_per_mtok=Decimal("5"),
    )
    AIModelFactory(
        name="B",
        release_date=datetime.date(2025, 1, 1),
        context_length=9000,
        price_input_per_mtok=Decimal("1"),
    )
    AIModelFactory(name="C", release_date=None, context_length=None, price_input_per_mtok=None)
    assert names(client.get("/models/")) == ["B", "A", "C"]
    assert names(client.get("/models/?sort=oldest")) == ["A", "B", "C"]
    assert names(client.get("/models/?sort=context")) == ["B", "A", "C"]
    assert names(client.get("/models/?sort=price")) == ["B", "A", "C"]
    assert names(client.get("/models/?sort=name")) == ["A", "B", "C"]


@pytest.mark.parametrize(
    "query",
    [
        "?sort=drop-table",
        "?creator=nobody",
        "?size=galactic",
        "?page=999",
        "?page=-1",
        "?page=abc",
        "?q=" + "x" * 500,
        "?status=undead&capability=%00",
        "?q=%00",
        "?q=%ff%fe",
        "?sort[]=1&page=1e9",
    ],
)
def test_bad_filter_sort_and_page_values_never_fail(client, query):
    AIModelFactory.create_batch(3)
    page = client.get("/models/" + query)
    assert page.status_code == 200


def test_unknown_filter_values_are_ignored_with_a_notice(client):
    AIModelFactory(name="Acme: Live")
    page = client.get("/models/?creator=nobody&sort=bogus")
    assert names(page) == ["Acme: Live"]
    assert "were not recognised and were ignored" in page.content.decode()


def test_pages_hold_24_models_and_out_of_range_pages_show_the_last(client):
    AIModelFactory.create_batch(25)
    assert len(names(client.get("/models/"))) == 24
    assert len(names(client.get("/models/?page=2"))) == 1
    assert len(names(client.get("/models/?page=99"))) == 1


def test_pagination_links_keep_the_filters_and_work_without_javascript(client):
    AIModelFactory.create_batch(25, size_class="large")
    html = client.get("/models/?size=large").content.decode()
    assert 'href="?size=large&amp;page=2"' in html
    assert 'hx-get="?size=large&amp;page=2"' in html


def test_htmx_request_gets_only_the_results_partial(client):
    AIModelFactory(name="Acme: Live")
    page = client.get("/models/?q=live", headers={"HX-Request": "true"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "<html" not in html
    assert 'id="model-results"' in html
    assert "Acme: Live" in html
    assert "Filter models" not in html
    assert "HX-Request" in page["Vary"]


def test_htmx_history_restore_gets_the_whole_page(client):
    page = client.get(
        "/models/", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in page.content.decode()


def test_filter_form_is_a_plain_get_form_with_labelled_controls(client):
    html = client.get("/models/").content.decode()
    assert 'method="get" action="/models/"' in html
    for control in ("id_q", "id_creator", "id_capability", "id_category", "id_size", "id_sort"):
        assert f'<label for="{control}">' in html


def test_model_page_shows_specs_capabilities_and_responses_by_category(client):
    model = AIModelFactory(
        name="Qwen: Qwen3.5 122B A10B",
        parameters_total=122_000_000_000,
        parameters_active=10_000_000_000,
        context_length=262_144,
        description="A mixture of experts.",
    )
    model.capabilities.add(CapabilityFactory(slug="tool-use", name="Tool Use"))
    writing = CategoryFactory(slug="writing", name="Writing")
    ResponseFactory(model=model, challenge=ChallengeFactory(title="Haiku", category=writing))
    ResponseFactory(model=model, challenge=ChallengeFactory(title="Draft", is_published=False))
    html = client.get(model.get_absolute_url()).content.decode()
    assert "122B (10B active)" in html
    assert "262,144 tokens" in html
    assert "Tool Use" in html
    assert "A mixture of experts." in html
    assert "Writing" in html
    assert "Haiku" in html
    assert "Draft" not in html


def test_model_page_links_to_compare_with_related_models_with_sorted_slugs(client):
    acme = ProviderFactory(slug="acme")
    model = AIModelFactory(slug="zeta", provider=acme)
    AIModelFactory(slug="alpha", provider=acme)
    html = client.get(model.get_absolute_url()).content.decode()
    assert 'href="/compare/alpha-vs-zeta/"' in html


def test_retired_model_page_says_when_and_why_and_keeps_its_responses(client):
    model = AIModelFactory(
        status=AIModel.Status.RETIRED,
        retired_on=datetime.date(2025, 3, 1),
        retirement_reason="Superseded by v2.",
    )
    response = ResponseFactory(model=model)
    html = client.get(model.get_absolute_url()).content.decode()
    assert "Retired on March 1, 2025: Superseded by v2." in html
    assert response.challenge.title in html
    assert client.get(response.get_absolute_url()).status_code == 200


def test_unknown_model_is_a_helpful_404(client):
    page = client.get("/models/no-such-model/")
    assert page.status_code == 404
    assert "couldn't find that page" in page.content.decode()
    assert 'href="/models/"' in page.content.decode()


def test_creators_page_counts_listed_and_retired_models(client):
    acme = ProviderFactory(name="Acme")
    AIModelFactory.create_batch(2, provider=acme)
    AIModelFactory(provider=acme, status=AIModel.Status.RETIRED, retired_on="2025-01-01")
    html = client.get("/creators/").content.decode()
    assert "2 models · 1 retired" in html


def test_creator_page_lists_its_models_and_404s_for_unknown(client):
    acme = ProviderFactory(slug="acme", name="Acme", description="Makes models.")
    AIModelFactory(provider=acme, name="Acme: One")
    AIModelFactory(name="Other: Two")
    html = client.get("/creators/acme/").content.decode()
    assert "Acme: One" in html
    assert "Other: Two" not in html
    assert "Makes models." in html
    assert client.get("/creators/nobody/").status_code == 404


def test_graveyard_lists_retired_models_with_date_reason_and_responses(client):
    gone = AIModelFactory(
        name="Acme: Gone",
        status=AIModel.Status.RETIRED,
        retired_on=datetime.date(2025, 6, 2),
        retirement_reason="Shut down by its creator.",
    )
    ResponseFactory(model=gone)
    AIModelFactory(name="Acme: Live")
    html = client.get("/graveyard/").content.decode()
    assert "Acme: Gone" in html
    assert "June 2, 2025" in html
    assert "Shut down by its creator." in html
    assert "1 response to read" in html
    assert "Acme: Live" not in html


def test_creators_page_links_each_creators_newest_models(client):
    acme = ProviderFactory(name="Acme")
    AIModelFactory(provider=acme, name="Acme: Newer", release_date=datetime.date(2025, 5, 1))
    AIModelFactory(provider=acme, name="Acme: Older", release_date=datetime.date(2024, 5, 1))
    html = client.get("/creators/").content.decode()
    assert html.index(">Newer</a>") < html.index(">Older</a>")
