"""Live battles: a visitor's own prompt, two anonymous models answering it live through the
Lab's machinery, the vote, the reveal — and nothing of it anywhere else."""

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.arena.models import Battle, LiveBattle, LiveCategoryRule, Vote
from apps.arena.services.battles import battle_issue
from apps.arena.services.leaderboard import leaderboard_recompute
from apps.arena.services.live import live_category
from apps.arena.services.pool import pool_release
from apps.catalog.models import Gateway
from apps.challenges.models import Challenge
from apps.challenges.services import challenges_set_published
from apps.gateways.clients import client_for
from apps.gateways.fakeprovider import FakeProvider
from apps.gateways.spend import spent_today
from apps.lab.models import LabResult, LabRun
from apps.lab.tasks import lab_generate
from apps.responses.models import Response
from tests.factories import AIModelFactory, CategoryFactory, ProviderFactory
from tests.utils import wait_for

pytestmark = pytest.mark.django_db

PROMPT = "Compare quokkas and wombats as neighbours, briefly."


def _models(gateway=None, **fields):
    made = []
    for n, word in enumerate(("Quill", "Ember")):
        provider = ProviderFactory(name=f"{word}works", slug=f"{word.lower()}works")
        extra = {"gateway": gateway, "gateway_model_id": f"{word.lower()}/m-{n}"} if gateway else {}
        made.append(
            AIModelFactory(
                provider=provider,
                name=f"{word}works: {word} {n + 7}",
                slug=f"{word.lower()}-{n + 7}",
                live_battle_enabled=True,
                **extra,
                **fields,
            )
        )
    return made


def _tells(models) -> list[str]:
    """Everything that would name a side: names, slugs, gateway ids, creators, gateways."""
    words = []
    for model in models:
        words += [model.name, model.slug, model.provider.name, model.provider.slug]
        if model.gateway is not None:
            words.append(model.gateway.name)
        if model.gateway_model_id:
            words.append(model.gateway_model_id)
    return words


def _assert_no_tells(reply, models) -> None:
    text = reply.content.decode() + "\n".join(f"{k}: {v}" for k, v in reply.headers.items())
    for word in _tells(models):
        assert word.lower() not in text.lower(), f"{word!r} gives a side away"
    html = reply.content.decode()
    assert "$" not in html, "no cost is shown before the vote"
    assert "First token" not in html and "tokens/s" not in html, "no timings"


def _start(client, prompt=PROMPT):
    return client.post(reverse("arena:live_new"), {"prompt": prompt})


def _answers(client, live):
    return client.get(reverse("arena:live_answers", args=[live.token]), HTTP_HX_REQUEST="true")


def _generate_all(live) -> None:
    for result in LabResult.objects.filter(run=live.run):
        lab_generate.apply(args=[result.pk])


@pytest.fixture
def paid(settings):
    """Paid gateways allowed, anonymous visitors given a small live-battle allowance."""
    settings.LAB_ALLOW_PAID_GATEWAYS = True
    settings.ARENA_LIVE_ANON_DAILY_USD = Decimal("1")
    return settings


@pytest.fixture
def quiet_fake():
    with FakeProvider(names_model=False, latency=2) as fake:
        yield fake


def _fake_gateway(fake, name="fake-live"):
    return Gateway.objects.create(
        name=name, kind=Gateway.Kind.OPENAI, base_url=fake.base_url, api_key_env=""
    )


def _priced(gateway):
    return _models(gateway, price_input_per_mtok=Decimal("1"), price_output_per_mtok=Decimal("2"))


# --- end to end ------------------------------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_live_battle_streams_through_a_real_worker_then_votes_reveal_and_count(
    client, quiet_fake, paid, celery_worker_process
):
    models = _priced(_fake_gateway(quiet_fake))
    celery_worker_process(
        "--pool", "threads", "--concurrency", "2", "-Q", "celery,lab",
        env={"LAB_ALLOW_PAID_GATEWAYS": "1"},
    )  # fmt: skip

    started = _start(client)
    assert started.status_code == 302
    live = LiveBattle.objects.get()
    assert started["Location"] == reverse("arena:live", args=[live.token])
    page = client.get(started["Location"])
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    html = page.content.decode()
    assert PROMPT in html and "Response A" in html and "Response B" in html
    assert 'http-equiv="refresh"' in html, "without JavaScript the page reloads itself"
    _assert_no_tells(page, models)

    seen = []

    def answers_complete() -> bool:
        reply = _answers(client, live)
        seen.append(reply)
        return "hx-trigger" not in reply.content.decode()

    wait_for(answers_complete, timeout=60)
    assert any("Writing" in r.content.decode() for r in seen), "the answers were seen streaming"
    for reply in seen:
        assert reply.status_code == 200 and "no-store" in reply["Cache-Control"]
        _assert_no_tells(reply, models)
    final = seen[-1].content.decode()
    assert final.count("you asked for.") == 2 and 'name="outcome"' in final

    live.refresh_from_db()
    assert live.state == "ready" and live.battle.session_key == client.session["arena_voter"]
    Battle.objects.filter(pk=live.battle_id).update(
        created_at=timezone.now() - timedelta(minutes=2)  # a reader's pace, not a bot's
    )
    side_a = live.run.results.get(position=0).model

    reveal = client.post(reverse("arena:vote"), {"battle": live.battle.token, "outcome": "a"})

    assert reveal.status_code == 200
    html = reveal.content.decode()
    assert models[0].name in html and models[1].name in html
    assert "See this response on its own page" not in html
    vote = Vote.objects.get()
    assert vote.is_counted and vote.model_a == side_a
    assert vote.battle.challenge.prompt == PROMPT and vote.category.slug == "general"
    assert vote.battle.challenge.origin == "live"
    snapshots = leaderboard_recompute(rounds=20)
    snapshot = next(s for s in snapshots if s.category_id is None and s.voters == "all")
    assert snapshot.votes_used == 1
    assert spent_today("live:site") > 0 and spent_today("lab:site") == 0


def test_an_answer_that_names_its_own_model_voids_the_battle(client, paid):
    with FakeProvider() as fake:  # its answers say "from <model id>"
        gateway = _fake_gateway(fake)
        models = _priced(gateway)
        client_for(gateway)  # the provider SDK is imported once, as a worker does
        _start(client)
        live = LiveBattle.objects.get()
        _generate_all(live)

    html = client.get(reverse("arena:live", args=[live.token])).content.decode()

    live.refresh_from_db()
    assert live.state == "void" and live.battle is None
    assert "gave away which model wrote it" in html and 'name="outcome"' not in html
    assert not Challenge.objects.filter(origin="live").exists() and not Vote.objects.exists()
    assert models


def test_a_failing_side_shows_a_generic_message_and_cannot_be_voted(client):
    models = _models()
    _start(client)
    live = LiveBattle.objects.get()
    failing = live.run.results.get(position=1)
    # The curator withdraws that model after the battle began: its call is refused.
    type(failing.model).objects.filter(pk=failing.model_id).update(live_battle_enabled=False)
    _generate_all(live)

    reply = client.get(reverse("arena:live", args=[live.token]))

    html = reply.content.decode()
    assert "This side could not answer." in html
    assert "One side could not answer" in html and 'name="outcome"' not in html
    assert "no longer offered" not in html
    _assert_no_tells(reply, models)
    live.refresh_from_db()
    assert live.state == "void" and not Battle.objects.exists()


# --- who may see it --------------------------------------------------------------------------


def test_another_visitor_gets_404_for_the_page_and_its_partial(client):
    _models()
    _start(client)
    live = LiveBattle.objects.get()
    stranger = Client()
    assert stranger.get(reverse("arena:live", args=[live.token])).status_code == 404
    assert _answers(stranger, live).status_code == 404
    made_up = reverse("arena:live", args=["x" * 32])
    assert client.get(made_up).status_code == 404


def test_a_plain_visit_to_the_partial_goes_to_the_battle(client):
    _models()
    _start(client)
    live = LiveBattle.objects.get()
    reply = client.get(reverse("arena:live_answers", args=[live.token]))
    assert reply.status_code == 302 and reply["Location"] == reverse(
        "arena:live", args=[live.token]
    )


def test_live_prompts_and_answers_never_reach_public_pages_or_other_battles(client, settings):
    models = _models()
    secret = "Zanzibar marmalade telescope riddle, answer in one line."
    _start(client, secret)
    live = LiveBattle.objects.get()
    _generate_all(live)
    client.get(reverse("arena:live", args=[live.token]))
    live.refresh_from_db()
    assert live.state == "ready"
    answers = list(Response.objects.filter(challenge__origin="live"))
    assert len(answers) == 2
    # Unpublished: no published-response count a visitor can watch moves when it settles.
    assert not Response.objects.published().filter(challenge__origin="live").exists()

    # The blind pool's release task, even long after, leaves them out of everything public.
    Response.objects.filter(pk__in=[r.pk for r in answers]).update(
        collected_at=timezone.now() - timedelta(days=400)
    )
    pool_release(votes=0)
    assert not Response.objects.filter(challenge__origin="live", public_from__isnull=False).exists()
    assert not Response.objects.visible().filter(challenge__origin="live").exists()
    assert not Response.objects.blind().filter(challenge__origin="live").exists()
    assert battle_issue(voter="someone-else") is None, "never drawn into anyone's battle"

    challenge = live.battle.challenge
    visitor = Client()
    public = [
        "/",
        reverse("challenges:list"),
        reverse("catalog:model", args=[models[0].slug]),
        "/sitemap.xml",
        "/api/v1/challenges",
        "/api/v1/responses",
    ]
    for url in public:
        body = visitor.get(url).content.decode()
        assert "Zanzibar" not in body and challenge.slug not in body, url
        assert not any(r.content[:40] in body for r in answers), url
    assert visitor.get(reverse("challenges:detail", args=[challenge.slug])).status_code == 404
    assert visitor.get(f"/api/v1/challenges/{challenge.slug}").status_code == 404
    detail = reverse("responses:detail", args=[models[0].slug, challenge.slug])
    assert visitor.get(detail).status_code == 404
    # Nor does the Lab list it: it is the arena's run, not a Lab run.
    assert "Zanzibar" not in client.get(reverse("lab:index")).content.decode()


def test_a_live_challenge_can_never_be_published(client):
    _models()
    _start(client)
    live = LiveBattle.objects.get()
    _generate_all(live)
    client.get(reverse("arena:live", args=[live.token]))
    challenge = Challenge.objects.get(origin="live")

    assert challenges_set_published(challenges=Challenge.objects.all(), published=True) == 0
    challenge.is_published = True
    with pytest.raises(IntegrityError):
        challenge.save()


# --- limits ----------------------------------------------------------------------------------


def test_the_site_cap_refuses_a_live_battle_with_a_clear_message(client, paid):
    with FakeProvider(names_model=False) as fake:
        _priced(_fake_gateway(fake))
        paid.ARENA_LIVE_DAILY_USD = Decimal("0.000001")

        reply = _start(client)

        assert reply.status_code == 429
        assert "Live battles have reached today's spending limit" in unescape(
            reply.content.decode()
        )
        assert not LiveBattle.objects.exists() and not LabRun.objects.exists()
        assert fake.requests() == []


def test_a_signed_in_voter_is_held_to_their_own_daily_allowance(client, paid, django_user_model):
    with FakeProvider(names_model=False) as fake:
        _priced(_fake_gateway(fake))
        paid.ARENA_LIVE_USER_DAILY_USD = Decimal("0.000001")
        client.force_login(django_user_model.objects.create_user("voter", "v@example.com", "pw"))

        reply = _start(client)

        assert reply.status_code == 429
        assert "daily live-battle allowance of $0.000001" in reply.content.decode()
        assert not LiveBattle.objects.exists()


def test_anonymous_visitors_without_an_allowance_get_free_models_only(client, settings):
    settings.LAB_ALLOW_PAID_GATEWAYS = True
    with FakeProvider(names_model=False) as fake:
        paid_models = _priced(_fake_gateway(fake))
        assert _start(client).status_code == 429, "two paid models only: nothing to draw"
        assert "fewer are available" in _start(client).content.decode()

        free = [
            AIModelFactory(name=f"Free: {n}", slug=f"free-{n}", live_battle_enabled=True)
            for n in ("a", "b")
        ]
        assert _start(client).status_code == 302

    drawn = set(LiveBattle.objects.get().run.results.values_list("model_id", flat=True))
    assert drawn == {m.pk for m in free} and not drawn & {m.pk for m in paid_models}


def test_models_not_enabled_for_live_battles_are_never_drawn(client):
    AIModelFactory(name="Lab only: One", slug="lab-one")
    AIModelFactory(name="Lab only: Two", slug="lab-two")
    page = client.get(reverse("arena:live_new")).content.decode()
    assert "not available right now" in page
    assert "Or battle on your own prompt" not in client.get(reverse("arena:arena")).content.decode()
    assert _start(client).status_code == 429 and not LiveBattle.objects.exists()


def test_starting_live_battles_is_rate_limited_per_session(client, settings):
    settings.ARENA_LIVE_LIMIT_SESSION = "1/3600"
    _models()
    assert _start(client).status_code == 302
    second = _start(client)
    assert second.status_code == 429
    assert "started a lot of live battles" in second.content.decode()
    assert LiveBattle.objects.count() == 1


def test_starting_live_battles_is_rate_limited_per_ip_group_across_sessions(settings):
    settings.ARENA_LIVE_LIMIT_IP = "1/3600"
    _models()
    assert _start(Client(REMOTE_ADDR="2001:db8::1")).status_code == 302
    # Another address in the same IPv6 /64, with a fresh cookie jar, is the same visitor.
    assert _start(Client(REMOTE_ADDR="2001:db8::beef")).status_code == 429
    assert LiveBattle.objects.count() == 1


def test_an_empty_or_oversized_prompt_is_refused_and_starts_nothing(client, settings):
    _models()
    assert _start(client, "   ").status_code == 400
    too_long = _start(client, "x" * (settings.LAB_MAX_PROMPT_CHARS + 1))
    assert too_long.status_code == 400 and "too long" in too_long.content.decode()
    assert not LiveBattle.objects.exists()


# --- categories ------------------------------------------------------------------------------


def test_keyword_rules_give_the_category_first_match_wins_else_general(client):
    coding = CategoryFactory(slug="coding", name="Coding")
    writing = CategoryFactory(slug="writing", name="Writing")
    LiveCategoryRule.objects.create(category=coding, keywords="python\nrust, SQL query", position=1)
    LiveCategoryRule.objects.create(category=writing, keywords="poem, python", position=2)

    assert live_category("Write a Python poem") == coding
    assert live_category("Write a poem about rain") == writing
    assert live_category("Fix this sql  QUERY please") == coding
    assert live_category("Is pythonic code better?").slug == "general"

    _models()
    _start(client, "A haiku? No, a poem.")
    assert LiveBattle.objects.get().category == writing


def _ready_live_battle(client, prompt=PROMPT) -> LiveBattle:
    _start(client, prompt)
    live = LiveBattle.objects.filter(session_key=client.session["arena_voter"]).get()
    _generate_all(live)
    client.get(reverse("arena:live", args=[live.token]))
    live.refresh_from_db()
    assert live.state == "ready"
    return live


def test_an_excluded_voter_sees_the_same_reveal_as_a_counted_one(settings):
    from apps.arena.services.votes import exclusion_create

    models = _models()
    pages, lives = [], []
    for excluded in (False, True):
        visitor = Client()
        live = _ready_live_battle(visitor)
        if excluded:
            exclusion_create(kind="session", value=live.session_key, reason="test")
        Battle.objects.filter(pk=live.battle_id).update(
            created_at=timezone.now() - timedelta(minutes=2)
        )
        lives.append(live)
        pages.append(
            visitor.post(reverse("arena:vote"), {"battle": live.battle.token, "outcome": "a"})
        )

    counted, excluded = (Vote.objects.get(battle_id=live.battle_id) for live in lives)
    assert counted.is_counted and not excluded.is_counted
    assert pages[0].status_code == pages[1].status_code == 200
    headers = [{k: v for k, v in page.headers.items() if k != "Expires"} for page in pages]
    assert headers[0] == headers[1] and "no-store" in pages[0]["Cache-Control"]
    # Sides are drawn at random, so which model (and answer) is A may differ: scrub them.
    scrub = [live.battle.token for live in lives] + [live.battle.challenge.slug for live in lives]
    scrub += [r.safe_html for r in Response.objects.filter(challenge__origin="live")]
    scrub += _tells(models)

    def scrubbed(reply) -> str:
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", reply.content.decode())
        html = re.sub(r'"X-CSRFToken": ?"[^"]+"', "", html)
        for secret in sorted(scrub, key=len, reverse=True):
            html = html.replace(secret, "·")
        return html

    assert scrubbed(pages[0]) == scrubbed(pages[1])


def test_the_polled_partial_makes_a_constant_number_of_queries(
    client, django_assert_max_num_queries
):
    _models()
    _start(client)
    live = LiveBattle.objects.get()
    _answers(client, live)
    with django_assert_max_num_queries(6):
        assert _answers(client, live).status_code == 200
