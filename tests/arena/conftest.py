import pytest

from tests.factories import AIModelFactory, CategoryFactory, ChallengeFactory, ResponseFactory


@pytest.fixture
def challenge_pair(db):
    """One published challenge answered by two models of different creators."""
    challenge = ChallengeFactory(category=CategoryFactory(slug="coding", name="Coding"))
    return (
        ResponseFactory(blind=True, challenge=challenge, model=AIModelFactory()),
        ResponseFactory(blind=True, challenge=challenge, model=AIModelFactory()),
    )


@pytest.fixture(autouse=True)
def exclusion_rules(request):
    """The automatic exclusion rules, off unless a test switches one on: most tests vote the
    instant a battle appears, which the too-fast rule would rightly exclude."""
    marker = request.node.get_closest_marker("django_db")
    if not marker and "db" not in request.fixturenames:
        return None
    # A worker test's votes must be committed for the worker to see them.
    transactional = marker is not None and marker.kwargs.get("transaction", False)
    request.getfixturevalue("transactional_db" if transactional else "db")
    from apps.arena.models import ExclusionSettings

    return ExclusionSettings.objects.update_or_create(
        pk=1,
        defaults={
            "too_fast_enabled": False,
            "ip_daily_enabled": False,
            "one_sided_enabled": False,
        },
    )[0]
