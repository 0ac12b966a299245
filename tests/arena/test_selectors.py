from apps.arena import selectors
from apps.arena.models import DEMO_VOTER, Exclusion, LeaderboardSnapshot, Vote
from apps.arena.services.votes import exclusion_create
from tests.factories import (
    AIModelFactory,
    CategoryFactory,
    ChallengeFactory,
    ResponseFactory,
    snapshot_rating,
    votes_between,
)


def test_votes_on_pairs_counts_both_seats_counted_or_not_and_only_the_pairs_asked(db):
    challenge = ChallengeFactory()
    one, two, three = (
        ResponseFactory(blind=True, challenge=challenge, model=AIModelFactory()) for _ in range(3)
    )
    votes_between(one, two, "aab")
    votes_between(two, one, "tx")
    votes_between(one, three, "a", session_key="stuffer")
    votes_between(two, three, "bb")
    exclusion_create(kind=Exclusion.Kind.SESSION, value="stuffer", reason="test")
    m1, m2, m3 = one.model_id, two.model_id, three.model_id

    counts = selectors.votes_on_pairs({(m2, m1), (min(m1, m3), max(m1, m3))})

    assert counts == {(min(m1, m2), max(m1, m2)): 5, (min(m1, m3), max(m1, m3)): 1}
    assert selectors.votes_on_pairs(set()) == {}


def _snapshot(ratings: dict, category=None, pk=None) -> LeaderboardSnapshot:
    return snapshot_rating(*ratings.items(), category=category, pk=pk)


def test_latest_ratings_show_a_new_snapshot_at_once(db):
    one, two = AIModelFactory(), AIModelFactory()
    coding = CategoryFactory()
    assert selectors.latest_ratings() == {}
    first = _snapshot({one: 1100.0, two: 1000.0})
    _snapshot({two: 1300.0}, category=coding)

    overall = selectors.latest_ratings()
    assert {pk: row.rating for pk, row in overall.items()} == {one.pk: 1100.0, two.pk: 1000.0}
    assert overall[one.pk].computed_at == first.computed_at
    assert selectors.latest_ratings() == overall

    newer = _snapshot({one: 1050.0, two: 1200.0})
    again = selectors.latest_ratings()
    assert {pk: row.rating for pk, row in again.items()} == {one.pk: 1050.0, two.pk: 1200.0}
    assert again[two.pk].rank == 2
    assert again[two.pk].computed_at == newer.computed_at
    assert {pk: row.rating for pk, row in selectors.latest_ratings(coding).items()} == {
        two.pk: 1300.0
    }


def test_latest_ratings_are_not_fooled_by_a_reused_snapshot_id(db):
    """SQLite gives the next row the id of a deleted newest one: the remembered rows of the
    deleted snapshot must not stand in for the new snapshot's."""
    model = AIModelFactory()
    first = _snapshot({model: 1100.0})
    assert selectors.latest_ratings()[model.pk].rating == 1100.0
    reused = first.pk
    first.delete()
    assert _snapshot({model: 1250.0}, pk=reused).pk == reused
    assert selectors.latest_ratings()[model.pk].rating == 1250.0


def test_latest_ratings_are_one_query_and_a_copy_the_caller_may_change(
    db, django_assert_num_queries
):
    model = AIModelFactory()
    _snapshot({model: 1100.0})
    for _ in range(2):  # a snapshot not seen before, then one remembered
        with django_assert_num_queries(1):
            ratings = selectors.latest_ratings()
        ratings.pop(model.pk)
    assert selectors.latest_ratings()[model.pk].rating == 1100.0


def test_latest_ratings_and_demo_votes_say_whether_simulated_votes_are_stored(db):
    challenge = ChallengeFactory()
    one, two = (ResponseFactory(blind=True, challenge=challenge) for _ in range(2))
    assert selectors.latest_ratings_and_demo_votes() == ({}, False)
    votes_between(one, two, "a", session_key=DEMO_VOTER)
    assert selectors.latest_ratings_and_demo_votes() == ({}, True)
    _snapshot({one.model: 1100.0})
    ratings, demo_votes = selectors.latest_ratings_and_demo_votes()
    assert demo_votes and ratings == selectors.latest_ratings()
    Vote.objects.filter(session_key=DEMO_VOTER).delete()
    assert selectors.latest_ratings_and_demo_votes() == (ratings, False)
