"""Battles and votes through the pages, as a visitor sees them."""

import ipaddress
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.arena.models import Battle, Vote
from rival.web import visitors
from tests.factories import battle_between, snapshot_rating

pytestmark = pytest.mark.django_db


def issued_token(client, **headers) -> str:
    page = client.get(reverse("arena:arena"), **headers)
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


def test_htmx_vote_answers_with_the_reveal_alone(client, challenge_pair):
    token = issued_token(client)

    page = vote(client, token, "tie", headers={"HX-Request": "true"})

    html = page.content.decode()
    assert page.status_code == 200
    assert html.lstrip().startswith('<section class="arena-reveal"')
    assert "You voted: Tie" in html and "Next battle" in html
    for response in challenge_pair:
        assert response.model.name in html
        assert response.safe_html not in html, "the answers stay on the page as they were"
    assert "HX-Retarget" not in page.headers


def test_a_second_vote_on_the_same_battle_is_refused_and_stores_nothing(client, challenge_pair):
    token = issued_token(client)
    vote(client, token, "a")

    again = vote(client, token, "b")

    assert again.status_code == 409
    assert "already voted" in again.content.decode()
    assert Vote.objects.get().outcome == "a"


@pytest.mark.django_db(transaction=True)
def test_concurrent_votes_on_one_battle_store_one_and_refuse_the_others(challenge_pair):
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from django.db import connection

    from apps.arena.services.votes import VoteRefused, vote_cast

    battle = battle_between(*challenge_pair, voter="twice")
    start = Barrier(4)

    def cast(outcome: str) -> int:
        try:
            start.wait()
            vote_cast(token=battle.token, voter="twice", outcome=outcome, ip_hash="h")
            return 200
        except VoteRefused as refused:
            return refused.status
        finally:
            connection.close()

    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(cast, ["a", "b", "tie", "both_bad"]))

    assert statuses == [200, 409, 409, 409]
    assert Vote.objects.filter(battle=battle).count() == 1


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
    assert 'name="battle"' in page.content.decode(), "a new battle to vote on"
    # The form asked for its own place; the message and the new battle take the arena's.
    assert (page.headers["HX-Retarget"], page.headers["HX-Reswap"]) == ("#arena", "innerHTML")
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


def test_battles_lean_towards_pairs_with_few_votes(client, db, settings):
    settings.ARENA_ISSUE_LIMIT_SESSION = "100/60"
    from tests.factories import ChallengeFactory, ResponseFactory, votes_between

    challenge = ChallengeFactory()
    busy_a, busy_b, fresh = (ResponseFactory(blind=True, challenge=challenge) for _ in range(3))
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


def _pool_of_six_challenges() -> None:
    from tests.factories import ChallengeFactory, ResponseFactory

    for _ in range(6):
        challenge = ChallengeFactory()
        ResponseFactory.create_batch(5, blind=True, challenge=challenge)


def test_arena_page_runs_a_constant_number_of_queries(client, django_assert_num_queries):
    """A battle: session, ratings (with the demo-votes flag), pair counts, the battle written
    and read back in one statement. A vote: session, ratings, one read of the battle with its
    vote, everything the reveal names, the rules' settings, an exclusion and the session's
    count; the vote (no transaction around it); for the full page the battle's answers again
    (through htmx the reveal alone). The full page's live-battle offer and category filter
    are read once per content version (test_arena_page.py)."""
    _pool_of_six_challenges()
    issued_token(client)
    with django_assert_num_queries(4):
        token = issued_token(client)
    with django_assert_num_queries(4):
        issued_token(client, headers={"HX-Request": "true"})
    with django_assert_num_queries(5):
        vote(client, token, "a")
    token = issued_token(client)
    with django_assert_num_queries(4):
        vote(client, token, "a", headers={"HX-Request": "true"})


def test_a_vote_under_every_exclusion_rule_runs_a_constant_number_of_queries(
    client, exclusion_rules, django_assert_num_queries
):
    """As many as without the rules: the network's daily count and the session's and the
    network's votes with either model (for the one-sided test) are part of the read of the
    battle."""
    exclusion_rules.too_fast_enabled = True
    exclusion_rules.too_fast_base_ms = 0
    exclusion_rules.too_fast_chars_per_second = 10**9
    exclusion_rules.ip_daily_enabled = True
    exclusion_rules.one_sided_enabled = True
    exclusion_rules.save()
    _pool_of_six_challenges()
    for _ in range(3):
        token = issued_token(client)
        with django_assert_num_queries(5):
            vote(client, token, "a")
    assert Vote.objects.filter(is_counted=True).count() == 3


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
        challenge=voted.challenge,
        response_a=challenge_pair[0],
        response_b=challenge_pair[1],
        session_key="v",
        ip_hash="h",
    )
    fresh = battle_between(*challenge_pair)

    assert battles_prune() == 1
    assert set(Battle.objects.values_list("pk", flat=True)) == {voted.pk, fresh.pk}


def test_behind_a_trusted_proxy_the_forwarded_address_is_rate_limited(challenge_pair, settings):
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/8")]
    settings.ARENA_RATE_LIMIT_IP = "1/60"
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    first, second, third = Client(**proxy), Client(**proxy), Client(**proxy)

    a = vote(first, issued_token(first), headers={"X-Forwarded-For": "1.1.1.1, 203.0.113.1"})
    b = vote(second, issued_token(second), headers={"X-Forwarded-For": "203.0.113.2"})
    c = vote(third, issued_token(third), headers={"X-Forwarded-For": "9.9.9.9, 203.0.113.2"})

    assert (a.status_code, b.status_code, c.status_code) == (200, 200, 429)
    assert Vote.objects.filter(ip_hash=visitors.ip_hash("203.0.113.1", purpose="arena")).exists()


def test_issuing_battles_is_limited_per_ip_group_even_without_a_cookie(challenge_pair, settings):
    settings.ARENA_ISSUE_LIMIT_IP = "3/60"
    pages = [Client(REMOTE_ADDR="203.0.113.9").get(reverse("arena:arena")) for _ in range(4)]

    assert [p.status_code for p in pages] == [200, 200, 200, 429]
    assert "faster than anyone can read them" in pages[-1].content.decode()
    assert 'name="battle"' not in pages[-1].content.decode()
    assert "sessionid" not in pages[-1].cookies
    assert Battle.objects.count() == 3
    assert Client(REMOTE_ADDR="203.0.113.10").get(reverse("arena:arena")).status_code == 200


def test_issuing_battles_is_limited_per_session(client, challenge_pair, settings):
    settings.ARENA_ISSUE_LIMIT_SESSION = "2/60"
    statuses = [client.get(reverse("arena:arena")).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    assert Battle.objects.count() == 2


def test_ipv6_votes_from_one_64_share_one_limit(challenge_pair, settings):
    settings.ARENA_RATE_LIMIT_IP = "1/60"
    first, second = Client(REMOTE_ADDR="2001:db8:7::1"), Client(REMOTE_ADDR="2001:db8:7::2:5")
    other = Client(REMOTE_ADDR="2001:db8:8::1")

    statuses = [vote(c, issued_token(c)).status_code for c in (first, second, other)]

    assert statuses == [200, 429, 200]


def test_the_arena_and_vote_answers_are_never_stored(client, challenge_pair):
    page = client.get(reverse("arena:arena"))
    answer = vote(client, issued_token(client))

    for reply in (page, answer):
        assert "no-store" in reply["Cache-Control"]
        assert "ETag" not in reply.headers and "Last-Modified" not in reply.headers


def _scrubbed(html: str, *secrets: str) -> str:
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r'"X-CSRFToken": ?"[^"]+"', "", html)
    for secret in secrets:
        html = html.replace(secret, "")
    return html


def test_excluded_and_counted_voters_see_the_same_page(challenge_pair):
    from apps.arena.services.votes import exclusion_create

    pages, tokens = [], []
    for excluded in (False, True):
        visitor = Client()
        visitor.get(reverse("arena:arena"))
        voter = visitor.session["arena_voter"]
        if excluded:
            exclusion_create(kind="session", value=voter, reason="test")
        battle = battle_between(*challenge_pair, voter=voter)
        tokens.append(battle.token)
        pages.append(vote(visitor, battle.token, "a"))

    counted, excluded = (Vote.objects.get(battle__token=t) for t in tokens)
    assert counted.is_counted and not excluded.is_counted
    assert pages[0].status_code == pages[1].status_code == 200
    # Expires is "now" on both (never_cache): it differs only when a second ticks between them.
    del pages[0].headers["Expires"], pages[1].headers["Expires"]
    assert pages[0].headers == pages[1].headers
    assert _scrubbed(pages[0].content.decode(), *tokens) == _scrubbed(
        pages[1].content.decode(), *tokens
    )


def _rated(*models_and_ratings) -> None:
    snapshot_rating(*models_and_ratings)


def test_the_reveal_shows_each_models_rating_from_the_newest_snapshot(client, challenge_pair):
    first, second = (response.model for response in challenge_pair)
    _rated((first, 1111.0), (second, 999.0))
    vote(client, issued_token(client), "a")
    _rated((first, 1234.0))

    html = vote(client, issued_token(client), "a").content.decode()

    assert "Rating <strong>1234</strong>" in html
    assert "Not rated yet." in html
    assert "1111" not in html


def test_a_vote_that_gets_its_session_excluded_still_reveals_both_models(client, exclusion_rules):
    """The eighth win in a row for one model (p ≈ 0.008 < 0.01) excludes the session; the
    visitor's page is the same reveal as ever."""
    from tests.factories import AIModelFactory, ChallengeFactory, ResponseFactory

    exclusion_rules.one_sided_enabled = True
    exclusion_rules.one_sided_min_battles = 8
    exclusion_rules.one_sided_p_value = 0.01
    exclusion_rules.save()
    favourite = AIModelFactory()
    client.get(reverse("arena:arena"))  # starts the visitor's arena session
    voter = client.session["arena_voter"]
    for _ in range(8):
        challenge = ChallengeFactory()
        mine = ResponseFactory(blind=True, challenge=challenge, model=favourite)
        other = ResponseFactory(blind=True, challenge=challenge, model=AIModelFactory())
        battle = battle_between(mine, other, voter=voter)
        page = vote(client, battle.token, "a")
        assert page.status_code == 200

    html = page.content.decode()
    assert "You voted" in html
    assert favourite.name in html and other.model.name in html
    assert Vote.objects.filter(session_key=voter).count() == 8
    assert not Vote.objects.filter(session_key=voter, is_counted=True).exists()
    assert Vote.objects.get(battle=battle).excluded_rule == "one_sided"
