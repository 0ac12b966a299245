"""Battles and votes through the pages, as a visitor sees them."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.arena.models import Battle, Vote
from rival.web import visitors
from tests.factories import battle_between

pytestmark = pytest.mark.django_db


def issued_token(client) -> str:
    page = client.get(reverse("arena:arena"))
    assert page.status_code == 200
    match = re.search(r'name="battle" value="([^"]+)"', page.content.decode())
    assert match, "no battle on the page"
    return match.group(1)


def vote(client, token, outcome="a", **headers):
    return client.post(reverse("arena:vote"), {"battle": token, "outcome": outcome}, **headers)


def test_arena_shows_the_prompt_two_anonymous_responses_and_four_choices(client, challenge_pair):
    page = client.get(reverse("arena:arena")).content.decode()

    assert challenge_pair[0].challenge.title in page
    assert "Response A" in page and "Response B" in page
    for label in ("A is better", "B is better", "Tie", "Both are bad"):
        assert label in page


def test_voting_stores_one_vote_and_reveals_both_models_with_links(client, challenge_pair):
    token = issued_token(client)

    page = vote(client, token, "b")

    assert page.status_code == 200
    html = page.content.decode()
    for response in challenge_pair:
        assert response.model.name in html
        assert f"/models/{response.model.slug}/" in html
    assert "Next battle" in html
    stored = Vote.objects.get()
    assert stored.outcome == "b" and stored.is_counted
    battle = Battle.objects.get(token=token)
    assert {stored.model_a_id, stored.model_b_id} == {r.model_id for r in challenge_pair}
    assert stored.model_a_id == battle.response_a.model_id


def test_htmx_vote_answers_with_the_battle_region_only(client, challenge_pair):
    token = issued_token(client)

    page = vote(client, token, "tie", headers={"HX-Request": "true"})

    html = page.content.decode()
    assert page.status_code == 200
    assert "<html" not in html and "You voted: Tie" in html


def test_a_second_vote_on_the_same_battle_is_refused_and_stores_nothing(client, challenge_pair):
    token = issued_token(client)
    vote(client, token, "a")

    again = vote(client, token, "b")

    assert again.status_code == 409
    assert "already voted" in again.content.decode()
    assert Vote.objects.get().outcome == "a"


def test_a_vote_on_another_visitors_battle_is_refused(client, challenge_pair):
    token = issued_token(client)

    other = vote(Client(), token, "a")

    assert other.status_code == 403
    assert "not issued to you" in other.content.decode()
    assert not Vote.objects.exists()


def test_a_made_up_battle_token_is_refused(client, challenge_pair):
    issued_token(client)

    page = vote(client, "not-a-real-battle", "a")

    assert page.status_code == 403
    assert not Vote.objects.exists()


def test_a_vote_after_the_battle_expired_is_refused(client, challenge_pair):
    token = issued_token(client)
    Battle.objects.filter(token=token).update(expires_at=timezone.now() - timedelta(seconds=1))

    page = vote(client, token, "a")

    assert page.status_code == 410
    assert "expired" in page.content.decode()
    assert not Vote.objects.exists()


def test_an_unknown_outcome_is_refused(client, challenge_pair):
    token = issued_token(client)

    page = vote(client, token, "c")

    assert page.status_code == 400
    assert not Vote.objects.exists()


def test_a_refused_htmx_vote_shows_the_message_in_the_swapped_region(client, challenge_pair):
    token = issued_token(client)
    vote(client, token, "a")

    page = vote(client, token, "a", headers={"HX-Request": "true"})

    assert "already voted" in page.content.decode()
    assert Vote.objects.count() == 1


def test_a_vote_without_the_csrf_token_is_refused(challenge_pair):
    client = Client(enforce_csrf_checks=True)
    token = issued_token(client)

    page = vote(client, token, "a")

    assert page.status_code == 403
    assert not Vote.objects.exists()


def test_votes_beyond_the_per_session_limit_are_refused(client, challenge_pair, settings):
    settings.ARENA_RATE_LIMIT_SESSION = "3/60"
    statuses = [vote(client, issued_token(client), "a").status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 429, 429]
    assert Vote.objects.count() == 3


def test_votes_beyond_the_per_ip_limit_are_refused_across_sessions(challenge_pair, settings):
    settings.ARENA_RATE_LIMIT_IP = "2/60"
    clients = [Client(REMOTE_ADDR="203.0.113.9") for _ in range(3)]
    statuses = [vote(c, issued_token(c), "a").status_code for c in clients]

    assert statuses == [200, 200, 429]
    assert Vote.objects.count() == 2


def test_the_ip_address_is_stored_only_as_a_salted_hash(challenge_pair):
    client = Client(REMOTE_ADDR="198.51.100.7")
    vote(client, issued_token(client), "a")

    stored = Vote.objects.get()
    assert stored.ip_hash == visitors.ip_hash("198.51.100.7", purpose="arena")
    assert "198.51.100.7" not in str(Vote.objects.values().get())
    assert len(stored.ip_hash) == 64


def test_the_arena_without_two_responses_shows_a_friendly_empty_state(client, db):
    page = client.get(reverse("arena:arena"))

    assert page.status_code == 200
    assert "No battle to show yet" in page.content.decode()


def test_a_category_with_no_battles_shows_the_empty_state(client, challenge_pair):
    from tests.factories import CategoryFactory

    CategoryFactory(slug="poetry", name="Poetry")

    page = client.get(reverse("arena:arena"), {"category": "poetry"})

    assert "No battle to show yet" in page.content.decode()


def test_a_battle_can_be_asked_for_within_a_category(client, challenge_pair):
    page = client.get(reverse("arena:arena"), {"category": "coding"})

    assert challenge_pair[0].challenge.title in page.content.decode()


def test_the_frame_serves_html_output_sandboxed_and_only_to_its_visitor(client, challenge_pair):
    for response in challenge_pair:
        response.output_type = "html"
        response.content = "<h1>Hello from a model</h1>"
        response.save()
    token = issued_token(client)
    url = reverse("arena:frame", args=[token, "a"])

    framed = client.get(url)

    assert framed.status_code == 200
    assert framed.content == b"<h1>Hello from a model</h1>"
    policy = framed.headers["Content-Security-Policy"]
    assert "sandbox allow-scripts" in policy and "default-src 'none'" in policy
    assert framed.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert Client().get(url).status_code == 404


def test_battles_lean_towards_pairs_with_few_votes(client, db):
    from tests.factories import ChallengeFactory, ResponseFactory, votes_between

    challenge = ChallengeFactory()
    busy_a, busy_b, fresh = (ResponseFactory(challenge=challenge) for _ in range(3))
    votes_between(busy_a, busy_b, "ab" * 200)
    busy = {busy_a.pk, busy_b.pk}

    picks = [issued_token(client) for _ in range(60)]

    pairs = Battle.objects.filter(token__in=picks)
    busy_pairs = sum({b.response_a_id, b.response_b_id} == busy for b in pairs)
    # Uniform choice would give the busy pair a third of the battles (about 20 of 60).
    assert busy_pairs < 8


def test_battle_issued_to_a_visitor_is_stored_with_an_expiry(client, challenge_pair):
    token = issued_token(client)
    battle = Battle.objects.get(token=token)
    assert battle.expires_at > timezone.now()
    assert len(token) >= 32


def test_vote_service_refuses_a_battle_of_another_voter(challenge_pair):
    from apps.arena.services.votes import VoteRefused, vote_cast

    battle = battle_between(*challenge_pair, voter="someone")
    with pytest.raises(VoteRefused):
        vote_cast(token=battle.token, voter="someone-else", outcome="a", ip_hash="e" * 64)
    assert not Vote.objects.exists()


def test_arena_page_runs_a_constant_number_of_queries(client, django_assert_max_num_queries):
    from tests.factories import ChallengeFactory, ResponseFactory

    for _ in range(6):
        challenge = ChallengeFactory()
        ResponseFactory.create_batch(5, challenge=challenge)
    issued_token(client)
    with django_assert_max_num_queries(10):
        token = issued_token(client)
    with django_assert_max_num_queries(16):
        vote(client, token, "a")


def test_long_expired_unvoted_battles_are_pruned_and_voted_ones_kept(challenge_pair):
    from apps.arena.services.battles import battles_prune

    old = timezone.now() - timedelta(days=3)
    battle_between(*challenge_pair, expires_at=old)
    voted = battle_between(*challenge_pair, expires_at=old)
    Vote.objects.create(
        battle=voted,
        outcome="a",
        model_a=challenge_pair[0].model,
        model_b=challenge_pair[1].model,
        session_key="v",
        ip_hash="h",
    )
    fresh = battle_between(*challenge_pair)

    assert battles_prune() == 1
    assert set(Battle.objects.values_list("pk", flat=True)) == {voted.pk, fresh.pk}


def test_behind_a_trusted_proxy_the_forwarded_address_is_rate_limited(challenge_pair, settings):
    settings.TRUSTED_PROXIES = 1
    settings.ARENA_RATE_LIMIT_IP = "1/60"
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    first, second, third = Client(**proxy), Client(**proxy), Client(**proxy)

    a = vote(first, issued_token(first), headers={"X-Forwarded-For": "1.1.1.1, 203.0.113.1"})
    b = vote(second, issued_token(second), headers={"X-Forwarded-For": "203.0.113.2"})
    c = vote(third, issued_token(third), headers={"X-Forwarded-For": "9.9.9.9, 203.0.113.2"})

    assert (a.status_code, b.status_code, c.status_code) == (200, 200, 429)
    assert Vote.objects.filter(ip_hash=visitors.ip_hash("203.0.113.1", purpose="arena")).exists()
