from apps.arena import selectors
from apps.arena.models import Exclusion
from apps.arena.services.votes import exclusion_create
from tests.factories import AIModelFactory, ChallengeFactory, ResponseFactory, votes_between


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
