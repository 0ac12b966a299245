"""The automatic exclusion rules: each stops votes from counting, with a public reason."""

import re
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection
from django.test import Client
from django.urls import reverse

from apps.arena.models import Battle, Exclusion, ExclusionRule, Vote
from apps.arena.services.votes import vote_cast
from rival.web import visitors
from tests.factories import (
    AIModelFactory,
    ChallengeFactory,
    ResponseFactory,
    battle_between,
    snapshot_rating,
)

pytestmark = pytest.mark.django_db


def _shown_ago(battle: Battle, seconds: float) -> Battle:
    Battle.objects.filter(pk=battle.pk).update(
        created_at=battle.created_at - timedelta(seconds=seconds)
    )
    return battle


def test_a_vote_faster_than_reading_both_answers_is_excluded_with_a_reason(
    challenge_pair, exclusion_rules
):
    exclusion_rules.too_fast_enabled = True
    exclusion_rules.too_fast_base_ms = 1000
    exclusion_rules.too_fast_chars_per_second = 100
    exclusion_rules.save()
    first, second = challenge_pair
    first.content, second.content = "word " * 200, "text " * 200  # 2,000 chars: 21 s floor
    first.save()
    second.save()
    hasty = _shown_ago(battle_between(first, second, voter="v1"), 5)
    patient = _shown_ago(battle_between(first, second, voter="v2"), 30)

    fast = vote_cast(token=hasty.token, voter="v1", outcome="a", ip_hash="h1")
    slow = vote_cast(token=patient.token, voter="v2", outcome="a", ip_hash="h2")

    assert not fast.is_counted and fast.excluded_rule == ExclusionRule.TOO_FAST
    assert "reading it takes at least 21.0 s" in fast.excluded_reason
    assert 5000 <= fast.decision_ms < 6000
    assert slow.is_counted and slow.excluded_rule == ""


def test_votes_past_the_daily_cap_of_one_network_are_excluded(challenge_pair, exclusion_rules):
    exclusion_rules.ip_daily_enabled = True
    exclusion_rules.ip_daily_limit = 2
    exclusion_rules.save()
    ip_hash = visitors.ip_hash("2001:db8:5::1", purpose="arena")
    cast = []
    for n in range(3):
        battle = battle_between(*challenge_pair, voter=f"s{n}")
        cast.append(vote_cast(token=battle.token, voter=f"s{n}", outcome="b", ip_hash=ip_hash))

    assert [v.is_counted for v in cast] == [True, True, False]
    assert cast[-1].excluded_rule == ExclusionRule.IP_DAILY
    assert "More than 2 votes from one network" in cast[-1].excluded_reason


def test_a_session_that_always_picks_one_model_loses_all_its_votes(exclusion_rules):
    exclusion_rules.one_sided_enabled = True
    exclusion_rules.one_sided_min_battles = 8
    exclusion_rules.one_sided_p_value = 0.01
    exclusion_rules.save()
    target = AIModelFactory()
    cast = []
    for n in range(9):
        challenge = ChallengeFactory()
        mine = ResponseFactory(blind=True, challenge=challenge, model=target)
        other = ResponseFactory(blind=True, challenge=challenge)
        seats = (mine, other) if n % 2 else (other, mine)
        battle = battle_between(*seats, voter="shill")
        outcome = "a" if seats[0] is mine else "b"
        cast.append(vote_cast(token=battle.token, voter="shill", outcome=outcome, ip_hash="h"))

    votes = list(Vote.objects.filter(session_key="shill").order_by("created_at"))
    assert all(not v.is_counted for v in votes)
    assert {v.excluded_rule for v in votes} == {ExclusionRule.ONE_SIDED}
    assert "scored 8 of a possible 8 in this session's battles" in votes[0].excluded_reason
    assert [v.session_votes_before for v in votes] == list(range(9))


def test_an_honest_session_with_mixed_votes_keeps_counting(exclusion_rules):
    exclusion_rules.one_sided_enabled = True
    exclusion_rules.one_sided_min_battles = 8
    exclusion_rules.save()
    target = AIModelFactory()
    for n in range(12):
        challenge = ChallengeFactory()
        battle = battle_between(
            ResponseFactory(blind=True, challenge=challenge, model=target),
            ResponseFactory(blind=True, challenge=challenge),
            voter="fair",
        )
        vote_cast(token=battle.token, voter="fair", outcome="ab"[n % 2], ip_hash="h")

    assert Vote.objects.filter(session_key="fair", is_counted=True).count() == 12


def test_the_public_log_shows_counts_and_reasons_but_no_session_or_address(
    client, challenge_pair, exclusion_rules
):
    exclusion_rules.too_fast_enabled = True
    exclusion_rules.save()
    battle = battle_between(*challenge_pair, voter="secret-session-key")
    hashed = visitors.ip_hash("198.51.100.77", purpose="arena")
    vote_cast(token=battle.token, voter="secret-session-key", outcome="a", ip_hash=hashed)

    page = client.get(reverse("arena:exclusions"))

    html = page.content.decode()
    assert page.status_code == 200
    assert ExclusionRule.TOO_FAST.label in html
    assert "reading it takes at least" in html
    assert re.search(r"<td>Faster than anyone can read both answers</td><td>1</td>", html)
    assert "secret-session-key" not in html and hashed not in html and "198.51.100" not in html


def test_the_session_age_and_decision_time_are_stored_with_the_vote(challenge_pair):
    visitor = Client()
    page = visitor.get(reverse("arena:arena")).content.decode()
    token = re.search(r'name="battle" value="([^"]+)"', page).group(1)

    visitor.post(reverse("arena:vote"), {"battle": token, "outcome": "tie"})

    vote = Vote.objects.get()
    assert vote.decision_ms is not None and vote.decision_ms < 60_000
    assert vote.session_age_s is not None and vote.session_age_s < 60
    assert vote.session_votes_before == 0


def test_position_bias_is_shown_on_the_methodology_page(client, challenge_pair):
    from tests.factories import votes_between

    votes_between(*challenge_pair, "aaab")

    html = client.get(reverse("pages:methodology")).content.decode()

    assert "A has won <strong>75%</strong>" in html
    assert "3 of 4 counted votes" in html


def _one_sided_rules(exclusion_rules):
    exclusion_rules.one_sided_enabled = True
    exclusion_rules.one_sided_min_battles = 8
    exclusion_rules.one_sided_p_value = 0.01
    exclusion_rules.save()


def _battles_with(target, n: int, voter_of) -> list[tuple[Battle, str]]:
    """`n` battles of `target` against another model, seats alternating, each issued to
    voter_of(i); with the outcome that picks the target."""
    battles = []
    for i in range(n):
        challenge = ChallengeFactory()
        mine = ResponseFactory(blind=True, challenge=challenge, model=target)
        other = ResponseFactory(blind=True, challenge=challenge)
        seats = (mine, other) if i % 2 else (other, mine)
        battles.append(
            (battle_between(*seats, voter=voter_of(i)), "a" if seats[0] is mine else "b")
        )
    return battles


def test_a_vote_whose_exclusion_cannot_be_written_is_not_stored_either(exclusion_rules):
    """The vote that makes its session one-sided and the exclusion it triggers are one
    transaction: when the exclusion fails (here PostgreSQL refuses it), no vote is stored
    and the earlier ones keep counting; voting again once it can be written excludes all."""
    _one_sided_rules(exclusion_rules)
    network = visitors.ip_hash("198.51.100.77", purpose="arena")
    battles = _battles_with(AIModelFactory(), 8, lambda i: "shill")
    for battle, pick in battles[:7]:
        assert vote_cast(
            token=battle.token, voter="shill", outcome=pick, ip_hash=network
        ).is_counted
    last, pick = battles[7]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse_exclusion() RETURNS trigger LANGUAGE plpgsql"
            " AS $$ BEGIN RAISE EXCEPTION 'exclusions refused'; END $$"
        )
        cursor.execute(
            f"CREATE TRIGGER test_refuse_exclusion BEFORE INSERT ON {Exclusion._meta.db_table}"
            " FOR EACH ROW EXECUTE FUNCTION test_refuse_exclusion()"
        )

    with pytest.raises(DatabaseError, match="exclusions refused"):
        vote_cast(token=last.token, voter="shill", outcome=pick, ip_hash=network)

    assert not Vote.objects.filter(battle=last).exists()
    assert Vote.objects.filter(session_key="shill", is_counted=True).count() == 7
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER test_refuse_exclusion ON {Exclusion._meta.db_table}")
    vote = vote_cast(token=last.token, voter="shill", outcome=pick, ip_hash=network)
    assert not vote.is_counted and vote.excluded_rule == ExclusionRule.ONE_SIDED
    assert not Vote.objects.filter(session_key="shill", is_counted=True).exists()


def test_a_network_that_always_picks_one_model_from_fresh_sessions_loses_all_its_votes(
    exclusion_rules,
):
    """A script that takes a new session every few votes evades the per-session test; its
    network (IP group) does not."""
    _one_sided_rules(exclusion_rules)
    target = AIModelFactory()
    network = visitors.ip_hash("2001:db8:bad:1::7", purpose="arena")
    bystander = visitors.ip_hash("198.51.100.20", purpose="arena")
    fair = _battles_with(AIModelFactory(), 2, lambda i: "bystander")
    for (battle, _), outcome in zip(fair, ("a", "b"), strict=True):
        vote_cast(token=battle.token, voter="bystander", outcome=outcome, ip_hash=bystander)

    for i, (battle, pick) in enumerate(_battles_with(target, 9, lambda i: f"fresh-{i // 3}")):
        vote_cast(token=battle.token, voter=f"fresh-{i // 3}", outcome=pick, ip_hash=network)

    shilled = list(Vote.objects.filter(ip_hash=network))
    assert len(shilled) == 9 and not any(v.is_counted for v in shilled)
    assert {v.excluded_rule for v in shilled} == {ExclusionRule.ONE_SIDED}
    assert "scored 8 of a possible 8 in this network's battles" in shilled[0].excluded_reason
    # Later votes from that network stop counting too, whatever the session; others count.
    later, _ = _battles_with(target, 1, lambda i: "fresh-later")[0]
    assert not vote_cast(
        token=later.token, voter="fresh-later", outcome="tie", ip_hash=network
    ).is_counted
    assert Vote.objects.filter(ip_hash=bystander, is_counted=True).count() == 2


def test_a_network_of_honest_voters_with_mixed_votes_keeps_counting(exclusion_rules):
    _one_sided_rules(exclusion_rules)
    target = AIModelFactory()
    shared = visitors.ip_hash("203.0.113.9", purpose="arena")  # an office behind one address

    for i, (battle, pick) in enumerate(_battles_with(target, 16, lambda i: f"colleague-{i}")):
        outcome = pick if i % 4 < 2 else {"a": "b", "b": "a"}[pick]
        vote_cast(token=battle.token, voter=f"colleague-{i}", outcome=outcome, ip_hash=shared)

    assert Vote.objects.filter(ip_hash=shared, is_counted=True).count() == 16


def test_a_network_that_calls_every_battle_of_a_weak_model_a_tie_is_caught(exclusion_rules):
    """Ties count half a win in the ratings, so a tie in every battle lifts a model expected
    to lose; the test counts them too."""

    _one_sided_rules(exclusion_rules)
    weak, strong = AIModelFactory(), AIModelFactory()
    snapshot_rating((weak, 800), (strong, 1200))
    network = visitors.ip_hash("2001:db8:7e:1::1", purpose="arena")
    fan = visitors.ip_hash("198.51.100.30", purpose="arena")

    for i in range(12):
        challenge = ChallengeFactory()
        weak_answer = ResponseFactory(blind=True, challenge=challenge, model=weak)
        strong_answer = ResponseFactory(blind=True, challenge=challenge, model=strong)
        tied = battle_between(weak_answer, strong_answer, voter=f"tie-{i // 3}")
        vote_cast(token=tied.token, voter=f"tie-{i // 3}", outcome="tie", ip_hash=network)
        fair = battle_between(weak_answer, strong_answer, voter=f"fair-{i // 3}")
        vote_cast(
            token=fair.token, voter=f"fair-{i // 3}", outcome="b" if i % 6 else "a", ip_hash=fan
        )

    tied_votes = list(Vote.objects.filter(ip_hash=network))
    assert not any(v.is_counted for v in tied_votes)
    assert "(a tie counts half)" in tied_votes[0].excluded_reason
    assert Vote.objects.filter(ip_hash=fan, is_counted=True).count() == 12
