"""Building blocks for the compare tests: two models and the challenges they answered."""

from tests.factories import AIModelFactory, ChallengeFactory, ResponseFactory


def pair(a_slug: str = "alpha", b_slug: str = "bravo", **kwargs):
    return AIModelFactory(slug=a_slug, **kwargs), AIModelFactory(slug=b_slug, **kwargs)


def shared_challenges(models, count: int, **challenge_kwargs):
    challenges = ChallengeFactory.create_batch(count, **challenge_kwargs)
    for challenge in challenges:
        for model in models:
            ResponseFactory(model=model, challenge=challenge)
    return challenges
