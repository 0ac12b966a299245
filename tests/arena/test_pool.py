"""The blind pool (docs/arena.md): what the arena shows, no public page shows."""

import hashlib
import io
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from apps.arena.models import Battle
from apps.arena.services.pool import pool_release
from apps.responses.models import Response
from apps.responses.services import response_create, responses_release
from tests.factories import (
    AIModelFactory,
    ChallengeFactory,
    ResponseFactory,
    votes_between,
)

pytestmark = pytest.mark.django_db


def test_a_newly_collected_response_is_shown_only_in_the_arena(client):
    challenge = ChallengeFactory()
    response, _ = response_create(
        model=AIModelFactory(),
        challenge=challenge,
        prompt=challenge.prompt,
        content="A fresh answer nobody has seen.",
        output_type="text",
        collected_at=timezone.now(),
        source=Response.Source.GATEWAY,
    )

    assert not Response.objects.visible().filter(pk=response.pk).exists()
    assert Response.objects.blind().filter(pk=response.pk).exists()
    assert client.get(response.get_absolute_url()).status_code == 404
    page = client.get(challenge.get_absolute_url()).content.decode()
    assert "fresh answer" not in page
    assert "1 more response is in the" in page
    assert (
        "1 more response is in the"
        in client.get(response.model.get_absolute_url()).content.decode()
    )
    assert response.get_absolute_url() not in client.get("/sitemap-responses.xml").content.decode()


def test_a_response_goes_public_after_enough_counted_votes(settings):
    settings.ARENA_BLIND_VOTES = 3
    first = ResponseFactory(blind=True)
    second = ResponseFactory(blind=True, challenge=first.challenge)
    votes_between(first, second, "ab")
    assert pool_release() == 0

    votes_between(first, second, "t")

    assert pool_release() == 2
    assert set(Response.objects.visible().values_list("pk", flat=True)) == {first.pk, second.pk}


def test_uncounted_votes_do_not_release_a_response(settings):
    settings.ARENA_BLIND_VOTES = 1
    first = ResponseFactory(blind=True)
    second = ResponseFactory(blind=True, challenge=first.challenge)
    for vote in votes_between(first, second, "aa"):
        vote.is_counted = False
        vote.save()

    assert pool_release() == 0


def test_a_response_goes_public_after_the_blind_days_or_the_challenges_own(settings):
    settings.ARENA_BLIND_DAYS = 7
    now = timezone.now()
    old = ResponseFactory(blind=True, collected_at=now - timedelta(days=8))
    young = ResponseFactory(blind=True, collected_at=now - timedelta(days=2))
    quick = ResponseFactory(
        blind=True,
        challenge=ChallengeFactory(blind_days=1),
        collected_at=now - timedelta(days=2),
    )

    assert pool_release() == 2
    assert set(Response.objects.visible().values_list("pk", flat=True)) == {old.pk, quick.pk}
    assert Response.objects.blind().get() == young


def test_a_challenges_own_vote_threshold_overrides_the_default(settings):
    settings.ARENA_BLIND_VOTES = 100
    challenge = ChallengeFactory(blind_votes=1)
    first = ResponseFactory(blind=True, challenge=challenge)
    second = ResponseFactory(blind=True, challenge=challenge)
    votes_between(first, second, "a")

    assert pool_release() == 2


def test_an_arena_only_challenge_keeps_its_responses_off_public_pages(client, settings):
    settings.ARENA_BLIND_VOTES = 1
    challenge = ChallengeFactory(arena_only=True)
    first = ResponseFactory(challenge=challenge)
    second = ResponseFactory(blind=True, challenge=challenge)
    votes_between(first, second, "aa")
    pool_release()

    assert not Response.objects.visible().exists()
    assert Response.objects.blind().count() == 2
    assert client.get(first.get_absolute_url()).status_code == 404
    assert (
        "2 more responses are in the" in client.get(challenge.get_absolute_url()).content.decode()
    )


def test_battles_are_drawn_only_from_the_blind_pool(client):
    challenge = ChallengeFactory()
    public = [ResponseFactory(challenge=challenge) for _ in range(3)]
    blind = [ResponseFactory(blind=True, challenge=challenge) for _ in range(2)]
    for _ in range(6):
        client.get(reverse("arena:arena"))

    shown = set(Battle.objects.values_list("response_a_id", "response_b_id"))
    assert shown
    assert {pk for pair in shown for pk in pair} == {r.pk for r in blind}
    assert not {r.pk for r in public} & {pk for pair in shown for pk in pair}


def _drawn(client, times: int = 6) -> set[int]:
    for _ in range(times):
        client.get(reverse("arena:arena"))
    pairs = Battle.objects.values_list("response_a_id", "response_b_id")
    return {pk for pair in pairs for pk in pair}


def _pool_moved_on(challenge) -> list:
    """The challenge's blind answers made public behind the pool's back (no invalidation),
    and two new blind ones, returned; the battles so far forgotten."""
    Response.objects.filter(challenge=challenge).update(public_from=timezone.now())
    Battle.objects.all().delete()
    return [ResponseFactory(blind=True, challenge=challenge) for _ in range(2)]


def test_a_flushed_cache_never_leaves_a_worker_drawing_from_the_pool_it_remembers(client):
    from django.core.cache import cache

    challenge = ChallengeFactory()
    [ResponseFactory(blind=True, challenge=challenge) for _ in range(2)]
    assert _drawn(client)
    new = _pool_moved_on(challenge)

    cache.clear()

    assert _drawn(client) == {r.pk for r in new}


def test_a_remembered_pool_is_read_again_once_older_than_its_lifetime(client, monkeypatch):
    import time
    from types import SimpleNamespace

    from apps.arena.services import battles

    challenge = ChallengeFactory()
    [ResponseFactory(blind=True, challenge=challenge) for _ in range(2)]
    assert _drawn(client)
    new = _pool_moved_on(challenge)

    later = time.time() + battles.POOL_RESPONSES_SECONDS + 1
    monkeypatch.setattr(battles, "time", SimpleNamespace(time=lambda: later))

    assert _drawn(client) == {r.pk for r in new}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def _shingles(html: str) -> set[str]:
    """Runs of 8 words of a page's text: what a bot matches answers by."""
    parser = _Text()
    parser.feed(html)
    words = re.findall(r"\w+", " ".join(parser.parts).lower())
    return {" ".join(words[i : i + 8]) for i in range(max(0, len(words) - 7))}


def _public_answers(client, challenge) -> dict[str, set[str]]:
    """What a lookup bot reads about a challenge: its page, then every public response page
    it links to, as {model slug: shingles of the page and digests of its frames}."""
    page = client.get(challenge.get_absolute_url()).content.decode()
    answers = {}
    for slug in sorted(set(re.findall(r'href="/models/([^/"]+)/responses/[^"]+"', page))):
        detail = client.get(reverse("responses:detail", args=[slug, challenge.slug]))
        html = detail.content.decode()
        answers[slug] = _shingles(html.split("<main", 1)[-1]) | {
            hashlib.sha256(client.get(frame).content).hexdigest()
            for frame in re.findall(r'src="(/r/[^"]+)"', html)
        }
    return answers


def _named_sides(bot, battles: list[tuple[str, str, Battle]]) -> tuple[int, int]:
    """How many sides the bot names rightly (its best-matching public answer is by the
    side's real model), and of how many battles it found public answers at all."""
    named = read = 0
    for html, token, battle in battles:
        answers = _public_answers(bot, battle.challenge)
        read += bool(answers)
        prompt = _shingles(battle.challenge.prompt)
        for side, response in (("a", battle.response_a), ("b", battle.response_b)):
            section = html.split(f'id="arena-side-{side}"', 1)[1].split("</section>", 1)[0]
            text = _shingles(section) - prompt
            framed = bot.get(reverse("arena:frame", args=[token, side]))
            if framed.status_code == 200:
                text |= {hashlib.sha256(framed.content).hexdigest()}
            scores = {slug: len(text & seen) for slug, seen in answers.items()}
            guess = max(scores, key=scores.get, default=None)
            if guess and scores[guess] >= len(text) / 2 and guess == response.model.slug:
                named += 1
    return named, read


def test_a_lookup_bot_reading_every_public_page_names_no_side_of_any_battle():
    """The attack of issue 10: read the public responses to the battle's challenge, match a
    side's text or frame against them, vote for the target. With the blind pool every side
    is unknown to the public pages; the same bot names sides once they are public."""
    call_command("loaddemo", verbosity=0)
    assert Response.objects.visible().exists() and Response.objects.blind().exists()
    bot = Client()
    battles = []
    for _ in range(12):
        html = bot.get(reverse("arena:arena")).content.decode()
        token = re.search(r'name="battle" value="([^"]+)"', html).group(1)
        battles.append(
            (
                html,
                token,
                Battle.objects.select_related(
                    "challenge", "response_a__model", "response_b__model"
                ).get(token=token),
            )
        )

    named, read = _named_sides(bot, battles)
    assert read > 0, "the bot read no public answers: the test would prove nothing"
    assert named == 0

    # Released as the site releases answers (the service marks public pages changed).
    responses_release(
        ids=Response.objects.filter(public_from__isnull=True).values_list("pk", flat=True)
    )
    assert _named_sides(bot, battles)[0] >= 12


def test_a_battles_image_shares_no_bytes_name_or_validator_with_the_stored_file(
    client, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(buffer, "PNG")
    challenge = ChallengeFactory(output_type="image")
    sides = []
    for _ in range(2):
        response = ResponseFactory(blind=True, challenge=challenge, content="")
        response.image.save("pelican-0123abcd.png", ContentFile(buffer.getvalue()))
        sides.append(response)
    client.get(reverse("arena:arena"))
    battle = Battle.objects.get()
    stored = hashlib.sha256(buffer.getvalue()).hexdigest()

    bodies = []
    for _ in range(2):
        image = client.get(reverse("arena:frame", args=[battle.token, "a"]))
        assert image.status_code == 200
        assert image["Content-Type"] == "image/png"
        assert image["Cache-Control"] == "private, no-store"
        for header in ("Content-Disposition", "ETag", "Last-Modified"):
            assert header not in image.headers
        assert "pelican" not in str(image.headers) and "0123abcd" not in str(image.headers)
        assert hashlib.sha256(image.content).hexdigest() != stored
        assert Image.open(io.BytesIO(image.content)).size == (40, 30)
        bodies.append(image.content)
    # Each load differs too: two visitors cannot compare digests to pool what they saw.
    assert bodies[0] != bodies[1]


def test_battle_frames_and_arena_pages_are_never_stored_or_validated(client):
    challenge = ChallengeFactory(output_type="svg")
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><circle r="3"/></svg>'
    first = ResponseFactory(blind=True, challenge=challenge, output_type="svg", content=svg)
    ResponseFactory(blind=True, challenge=challenge, output_type="svg", content=svg)
    page = client.get(reverse("arena:arena"))
    battle = Battle.objects.get()
    frame = client.get(reverse("arena:frame", args=[battle.token, "a"]))

    for reply in (page, frame):
        assert "no-store" in reply["Cache-Control"]
        assert "ETag" not in reply.headers and "Last-Modified" not in reply.headers
    assert reverse("responses:frame", args=[first.pk]) not in page.content.decode()
