from decimal import Decimal

import pytest
from django.db import IntegrityError

from tests.factories import AIModelFactory, ChallengeFactory, ResponseFactory

pytestmark = pytest.mark.django_db


def test_only_one_published_response_per_model_and_challenge():
    first = ResponseFactory()
    with pytest.raises(IntegrityError):
        ResponseFactory(model=first.model, challenge=first.challenge)


def test_unpublished_responses_can_sit_beside_the_published_one():
    first = ResponseFactory()
    ResponseFactory(model=first.model, challenge=first.challenge, is_published=False)
    ResponseFactory(model=first.model, challenge=first.challenge, is_published=False)
    assert first.model.responses.count() == 3


def test_negative_cost_is_refused():
    with pytest.raises(IntegrityError):
        ResponseFactory(cost_usd=Decimal("-0.01"))


def test_negative_token_counts_are_refused():
    with pytest.raises(IntegrityError):
        ResponseFactory(model=AIModelFactory(), challenge=ChallengeFactory(), tokens_out=-5)
