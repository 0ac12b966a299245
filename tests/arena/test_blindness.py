"""Blind means blind: nothing before the vote tells which model wrote which side."""

import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from apps.arena.models import Battle, IdentityTerm
from apps.catalog.models import AIModel
from tests.factories import AIModelFactory, ChallengeFactory, ProviderFactory, ResponseFactory

pytestmark = pytest.mark.django_db


# Keyboard hints carry the digits 1–4; class names carry syntax-highlighting codes ("s1").
IGNORED_ATTRIBUTES = {"data-arena-key", "aria-keyshortcuts", "class"}


class AttributeValues(HTMLParser):
    def __init__(self):
        super().__init__()
        self.values: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.values.extend(value or "" for name, value in attrs if name not in IGNORED_ATTRIBUTES)


def numbers_in_attributes(html: str, *random_tokens: str) -> set[str]:
    """Every run of digits in attribute values (URLs, ids, names…), random tokens removed."""
    parser = AttributeValues()
    parser.feed(html)
    numbers = set()
    for value in parser.values:
        for token in random_tokens:
            value = value.replace(token, "")
        numbers |= set(re.findall(r"\d+", value))
    return numbers


def mentions(text: str, term: str) -> bool:
    """Whether `term` stands in `text` as a whole token (a short slug like "o3" can occur
    inside a random battle token without naming anything)."""
    pattern = r"(?<![a-z0-9])" + re.escape(term.lower()) + r"(?![a-z0-9])"
    return re.search(pattern, text.lower()) is not None


def test_pre_vote_pages_name_no_model_slug_creator_or_id_for_any_demo_model(settings):
    settings.ARENA_ISSUE_LIMIT_SESSION = "100/60"
    call_command("loaddemo", verbosity=0)
    models = list(AIModel.objects.select_related("provider"))
    assert len(models) >= 3
    client = Client()
    seen_models = set()
    for _ in range(40):
        page = client.get(reverse("arena:arena"))
        html = page.content.decode()
        token = re.search(r'name="battle" value="([^"]+)"', html).group(1)
        battle = Battle.objects.select_related("response_a", "response_b").get(token=token)
        seen_models |= {battle.response_a.model_id, battle.response_b.model_id}
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        visible = html.replace(token, "").replace(csrf, "")
        for model in models:
            for giveaway in (model.name, model.short_name, model.slug, model.gateway_model_id):
                assert not mentions(visible, giveaway), giveaway
        # No id of a response or model of this battle appears in any attribute or URL.
        ids = {
            str(battle.response_a_id),
            str(battle.response_b_id),
            str(battle.response_a.model_id),
            str(battle.response_b.model_id),
            str(battle.pk),
        }
        region = html.split('id="arena"', 1)[1].split("</main>", 1)[0]
        assert not ids & numbers_in_attributes(region, token, csrf), ids
        for side in ("a", "b"):
            framed = client.get(reverse("arena:frame", args=[token, side]))
            if framed.status_code == 200:
                body = framed.content.decode()
                assert not any(mentions(body, m.slug) or mentions(body, m.name) for m in models)
                assert not any(mentions(str(framed.headers), m.slug) for m in models)
    assert len(seen_models) >= 3


def eligible_battle_models(client) -> set[int]:
    seen = set()
    for _ in range(25):
        html = client.get(reverse("arena:arena")).content.decode()
        match = re.search(r'name="battle" value="([^"]+)"', html)
        if not match:
            return seen
        battle = Battle.objects.select_related("response_a", "response_b").get(token=match.group(1))
        seen |= {battle.response_a.model_id, battle.response_b.model_id}
    return seen


def test_a_response_naming_its_own_model_is_kept_out_of_battles(client):
    challenge = ChallengeFactory()
    zephyr = AIModelFactory(name="Acme: Zephyr 2")
    IdentityTerm.objects.create(term="Zephyr", model=zephyr)
    ResponseFactory(
        blind=True, challenge=challenge, model=zephyr, content="As zephyr, I think this works."
    )
    ResponseFactory(blind=True, challenge=challenge)

    page = client.get(reverse("arena:arena"))

    assert "No battle to show yet" in page.content.decode()


def test_a_response_naming_its_creator_is_kept_out_of_battles(client):
    challenge = ChallengeFactory()
    creator = ProviderFactory(slug="acme", name="Acme Labs")
    talker = AIModelFactory(provider=creator)
    IdentityTerm.objects.create(term="an Acme model", provider=creator)
    ResponseFactory(
        blind=True, challenge=challenge, model=talker, content="Speaking as AN ACME MODEL: yes."
    )
    others = [ResponseFactory(blind=True, challenge=challenge) for _ in range(2)]

    assert eligible_battle_models(client) == {r.model_id for r in others}


def test_the_creators_own_name_in_a_response_keeps_it_out_of_battles(client):
    challenge = ChallengeFactory()
    creator = ProviderFactory(slug="blabber", name="Blabbercorp")
    ResponseFactory(
        blind=True,
        challenge=challenge,
        model=AIModelFactory(provider=creator),
        content="Trained by Blabbercorp.",
    )
    others = [ResponseFactory(blind=True, challenge=challenge) for _ in range(2)]

    assert eligible_battle_models(client) == {r.model_id for r in others}


def test_naming_another_model_does_not_keep_a_response_out(client):
    challenge = ChallengeFactory()
    zephyr = AIModelFactory()
    IdentityTerm.objects.create(term="Zephyr", model=zephyr)
    ResponseFactory(blind=True, challenge=challenge, model=zephyr, content="A plain answer.")
    other = ResponseFactory(
        blind=True, challenge=challenge, content="Unlike Zephyr, I would say no."
    )

    assert eligible_battle_models(client) == {zephyr.pk, other.model_id}


def test_a_new_identity_term_applies_to_the_very_next_battle(client):
    challenge = ChallengeFactory()
    talker = ResponseFactory(blind=True, challenge=challenge, content="Zephyr here, happy to help.")
    ResponseFactory(blind=True, challenge=challenge)
    assert "No battle to show yet" not in client.get(reverse("arena:arena")).content.decode()

    IdentityTerm.objects.create(term="Zephyr", model=talker.model)

    assert "No battle to show yet" in client.get(reverse("arena:arena")).content.decode()
