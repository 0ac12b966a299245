import pytest
from django.urls import reverse

from apps.arena import selectors
from apps.arena.models import DEMO_VOTER, LeaderboardSnapshot, Vote
from apps.arena.services.demo_votes import demo_votes_remove, demo_votes_seed
from tests.factories import (
    AIModelFactory,
    CategoryFactory,
    ChallengeFactory,
    ResponseFactory,
    votes_between,
)

pytestmark = pytest.mark.django_db

NOTICE = "Demo votes."


@pytest.fixture
def answered():
    """Two challenges in one category, each answered by the same four models."""
    category = CategoryFactory(slug="writing", name="Writing")
    models = [AIModelFactory() for _ in range(4)]
    challenges = [ChallengeFactory(category=category) for _ in range(2)]
    return [ResponseFactory(model=m, challenge=c) for c in challenges for m in models]


def test_seeding_casts_marked_counted_votes_and_recomputes_the_leaderboard(
    answered, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        cast = demo_votes_seed()
    # Six pairs per challenge, four votes each.
    assert cast == 2 * 6 * 4
    assert Vote.objects.filter(session_key=DEMO_VOTER, is_counted=True).count() == cast
    assert (
        LeaderboardSnapshot.objects.filter(category__isnull=True, voters="all").get().votes_used
        == cast
    )
    assert len(selectors.latest_rows()) == 4


def test_seeding_twice_casts_nothing_more(answered):
    first = demo_votes_seed(recompute=False)
    assert demo_votes_seed(recompute=False) == 0
    assert Vote.objects.count() == first


def test_pages_say_demo_votes_while_any_exist_and_stop_after_removal(
    client, answered, django_capture_on_commit_callbacks
):
    real = votes_between(answered[0], answered[1], "ab", session_key="real-voter")
    with django_capture_on_commit_callbacks(execute=True):
        demo_votes_seed()
    pages = [
        reverse("arena:leaderboard"),
        reverse("arena:arena"),
        reverse("arena:best_for", args=["writing"]),
    ]
    for url in pages:
        assert NOTICE in client.get(url).content.decode(), url
    with django_capture_on_commit_callbacks(execute=True):
        assert demo_votes_remove() == 48
    assert list(Vote.objects.all()) == sorted(real, key=lambda v: v.created_at, reverse=True)
    assert (
        LeaderboardSnapshot.objects.filter(category__isnull=True, voters="all").first().votes_used
        == 2
    )
    for url in pages:
        assert NOTICE not in client.get(url).content.decode(), url


def test_staff_remove_demo_votes_with_the_admin_action(admin_client, answered):
    demo_votes_seed(recompute=False)
    kept = votes_between(answered[0], answered[1], "a", session_key="real-voter")[0]
    admin_client.post(
        reverse("admin:arena_vote_changelist"),
        {"action": "remove_demo_votes", "_selected_action": [kept.pk]},
    )
    assert list(Vote.objects.values_list("pk", flat=True)) == [kept.pk]
