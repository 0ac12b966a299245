"""Blind means blind: nothing before the vote tells which model wrote which side."""

import itertools
import json
import re
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from apps.arena.models import Battle, IdentityTerm
from apps.catalog.models import AIModel
from apps.responses.services import responses_release
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


# --- The lookup bot against every public surface ------------------------------------------------

WORDS = [
    "amber",
    "basalt",
    "cobalt",
    "dune",
    "ember",
    "fjord",
    "garnet",
    "heron",
    "indigo",
    "jasper",
    "kelp",
    "lichen",
]


def _answer(seed: int) -> str:
    """Forty words no other answer shares in order: what a bot would search for."""
    return " ".join(WORDS[(seed * 7 + i * (seed + 1)) % len(WORDS)] + str(i) for i in range(40))


def _words(text: str) -> set[str]:
    """Runs of 8 words, markup and JSON punctuation aside."""
    words = re.findall(r"[a-z]+\d+", re.sub(r"<[^>]+>", " ", text).lower())
    return {" ".join(words[i : i + 8]) for i in range(max(0, len(words) - 7))}


def _surfaces(client, challenge, models, dataset_root) -> tuple[dict[str, set], set]:
    """What a lookup bot can read without an account: ({model slug: runs of words found on
    surfaces about that model}, runs of words found anywhere). Pages, counts, API, feeds,
    sitemaps (followed), compare pages and the open dataset."""
    from apps.developers import datasets

    by_model = {m.slug: set() for m in models}
    anywhere: set[str] = set()

    def read(url: str, slug: str | None = None) -> str:
        body = client.get(url).content.decode()
        found = _words(body)
        anywhere.update(found)
        if slug:
            by_model[slug] |= found
        return body

    for url in (
        "/",
        reverse("challenges:list"),
        reverse("catalog:creators"),
        "/feeds/responses.rss",
    ):
        read(url)
    read(challenge.get_absolute_url())
    for model in models:
        read(model.get_absolute_url(), model.slug)
        read(f"/api/v1/responses?model={model.slug}", model.slug)
        read(f"/feeds/models/{model.slug}.rss", model.slug)
        read(reverse("responses:detail", args=[model.slug, challenge.slug]), model.slug)
        read(model.provider.get_absolute_url())
    for item in client.get(f"/api/v1/responses?challenge={challenge.slug}").json()["items"]:
        by_model[item["model"]["slug"]] |= _words(item["content"])
        anywhere |= _words(item["content"])
    read(f"/api/v1/challenges/{challenge.slug}")
    read(f"/feeds/challenges/{challenge.slug}.rss")
    for section in ("responses", "models", "challenges", "compare"):
        for url in re.findall(r"<loc>https?://[^/]+([^<]+)</loc>", read(f"/sitemap-{section}.xml")):
            if "/responses/" in url:
                read(url, url.split("/")[2])
    for first, second in itertools.combinations(models, 2):
        read(f"/compare/{first.slug}-vs-{second.slug}/{challenge.slug}/")
    datasets.build(dataset_root)
    for line in (dataset_root / "jsonl" / "responses.jsonl").read_text().splitlines():
        record = json.loads(line)
        by_model[record["modelId"]] |= _words(record["content"])
        anywhere |= _words(record["content"])
    return by_model, anywhere


def test_the_lookup_bot_finds_no_battle_answer_on_any_public_surface_and_counts_tell_nothing(
    tmp_path, settings
):
    """Issue 10's bot, everywhere: pages, counts, API, feeds, sitemaps, compare, dataset. It
    finds no battle answer (so names no side) while they are blind, and the counts it reads
    are the public ones; once released, the same bot names every side."""
    settings.MEDIA_ROOT = tmp_path / "media"
    challenge = ChallengeFactory(title="Lookup target")
    models = [AIModelFactory() for _ in range(4)]
    for seed, model in enumerate(models[:2]):
        ResponseFactory(challenge=challenge, model=model, content=_answer(seed))
    blind = [
        ResponseFactory(blind=True, challenge=challenge, model=model, content=_answer(seed + 2))
        for seed, model in enumerate(models[2:])
    ]
    for model in models[2:]:  # the blind models are on public pages too, with other answers
        ResponseFactory(model=model, content=_answer(len(models) + model.pk % 5))
    bot = Client()
    html = bot.get(reverse("arena:arena")).content.decode()
    token = re.search(r'name="battle" value="([^"]+)"', html).group(1)
    battle = Battle.objects.get(token=token)
    sides = {}
    for side, response in (("a", battle.response_a), ("b", battle.response_b)):
        section = html.split(f'id="arena-side-{side}"', 1)[1].split("</section>", 1)[0]
        sides[response.model.slug] = _words(section)
        assert sides[response.model.slug], "the bot read no answer: the test would prove nothing"
    assert set(sides) == {r.model.slug for r in blind}

    by_model, anywhere = _surfaces(Client(), challenge, models, tmp_path / "before")

    for slug, text in sides.items():
        assert not text & anywhere, f"{slug}'s battle answer is readable in public"
    listed = re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", " ", bot.get(reverse("challenges:list")).content.decode())
    )
    assert "2 responses · 2 more in the arena" in listed
    assert bot.get(f"/api/v1/challenges/{challenge.slug}").json()["response_count"] == 2

    responses_release(ids=[r.pk for r in blind])
    by_model, anywhere = _surfaces(Client(), challenge, models, tmp_path / "after")

    for slug, text in sides.items():
        named = max(by_model, key=lambda candidate: len(text & by_model[candidate]))
        assert named == slug and len(text & by_model[slug]) >= len(text) / 2
