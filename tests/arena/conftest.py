import pytest

from tests.factories import AIModelFactory, CategoryFactory, ChallengeFactory, ResponseFactory


@pytest.fixture
def challenge_pair(db):
    """One published challenge answered by two models of different creators."""
    challenge = ChallengeFactory(category=CategoryFactory(slug="coding", name="Coding"))
    return (
        ResponseFactory(challenge=challenge, model=AIModelFactory()),
        ResponseFactory(challenge=challenge, model=AIModelFactory()),
    )
