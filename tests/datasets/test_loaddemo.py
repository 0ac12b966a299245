import io
from datetime import date

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count

from apps.catalog.models import AIModel, Provider
from apps.catalog.services import model_retire
from apps.challenges.models import Challenge, OutputType
from apps.datasets.demo_catalog import demo_catalog
from apps.responses import rendering
from apps.responses.models import Response

pytestmark = pytest.mark.django_db


def loaddemo(*args: str) -> str:
    out = io.StringIO()
    call_command("loaddemo", *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {m._meta.label: m.objects.count() for m in apps.get_models()}


def test_loading_the_demo_twice_changes_no_count_of_anything():
    loaddemo()
    first = row_counts()
    output = loaddemo()
    assert row_counts() == first
    assert "0 new responses" in output


def test_the_demo_has_a_real_sized_catalog():
    loaddemo()
    assert AIModel.objects.listed().count() >= 25
    assert Provider.objects.filter(models__isnull=False).distinct().count() >= 10
    assert Challenge.objects.published().count() >= 20
    for output_type in ("text", "code", "html", "svg"):
        assert Challenge.objects.filter(output_type=output_type).count() >= 4


def test_every_model_has_exactly_one_published_response_per_challenge():
    loaddemo()
    pairs = Response.objects.values("model", "challenge").annotate(n=Count("id"))
    assert {row["n"] for row in pairs} == {1}
    assert pairs.count() == AIModel.objects.count() * Challenge.objects.count()


def test_responses_have_the_challenge_output_type_and_priced_models_have_a_cost():
    loaddemo()
    for response in Response.objects.select_related("challenge", "model"):
        assert response.output_type == response.challenge.output_type
        if response.model.price_input_per_mtok is not None:
            assert response.cost_usd > 0
    svg = Response.objects.filter(output_type=OutputType.SVG).first()
    assert svg.content.startswith("<svg")


def test_every_demo_response_is_stored_with_its_rendering():
    loaddemo()
    response = Response.objects.filter(output_type=OutputType.TEXT).first()
    assert response.rendered_html == rendering.render_output(response.content, "text")
    assert not Response.objects.filter(rendered_html="").exists()


def test_retired_models_keep_responses_dated_before_their_retirement():
    loaddemo()
    retired = AIModel.objects.retired()
    assert retired.count() >= 1
    for model in retired:
        assert model.retirement_reason
        last = model.responses.order_by("-collected_at").first()
        assert last.collected_at.date() < model.retired_on


def test_model_names_are_in_the_creator_model_form():
    loaddemo()
    for model in AIModel.objects.with_provider():
        assert model.name.startswith(f"{model.provider.name}: ")


def test_demo_facts_include_moe_parameter_counts():
    loaddemo()
    deepseek = AIModel.objects.get(slug="deepseek-v3-1")
    assert (deepseek.parameters_total, deepseek.parameters_active) == (671 * 10**9, 37 * 10**9)
    assert AIModel.objects.get(slug="claude-sonnet-4-5").gateway_model_id == (
        "anthropic/claude-sonnet-4.5"
    )


def test_a_curators_retirement_survives_reloading_the_demo():
    loaddemo()
    model = AIModel.objects.get(slug="gpt-4o")
    model_retire(model=model, retired_on=date(2026, 2, 1), reason="Superseded by GPT-5.")
    loaddemo()
    model.refresh_from_db()
    assert model.status == AIModel.Status.RETIRED
    assert model.retirement_reason == "Superseded by GPT-5."


def test_admin_flag_prints_a_login_that_works(client):
    output = loaddemo("--admin")
    line = next(line for line in output.splitlines() if line.startswith("Admin login:"))
    username, password = line.removeprefix("Admin login: ").split(" / ")
    assert get_user_model().objects.get(username=username).is_superuser
    assert client.login(username=username, password=password)


def test_demo_catalog_slugs_are_unique():
    for kind in ("models", "challenges", "providers", "categories"):
        slugs = [row["slug"] for row in demo_catalog()[kind]]
        assert len(slugs) == len(set(slugs))
