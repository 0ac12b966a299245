from datetime import UTC, datetime

import pytest

from apps.responses import rendering
from apps.responses.models import Response
from apps.responses.services import responses_create_bulk
from tests.factories import AIModelFactory, ChallengeFactory, ResponseFactory

pytestmark = pytest.mark.django_db


def unsaved(model, challenge, content: str) -> Response:
    return Response(
        model=model,
        challenge=challenge,
        prompt=challenge.prompt,
        output_type=challenge.output_type,
        content=content,
        source=Response.Source.DEMO,
        collected_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_responses_created_in_bulk_carry_their_stored_rendering():
    challenge = ChallengeFactory(output_type="text")
    models = AIModelFactory.create_batch(3)

    responses_create_bulk(unsaved(model, challenge, "# Tides\n\n*why*") for model in models)

    rows = Response.objects.filter(challenge=challenge)
    assert rows.count() == 3
    for row in rows:
        assert row.rendered_html == rendering.render_output("# Tides\n\n*why*", "text")
        assert row.rendered_hash == rendering.content_hash("# Tides\n\n*why*", "text")


def test_bulk_creation_skips_a_pair_that_already_has_a_published_response():
    first = ResponseFactory(content="the first answer")

    responses_create_bulk([unsaved(first.model, first.challenge, "a second answer")])

    stored = Response.objects.get(model=first.model, challenge=first.challenge)
    assert stored.content == "the first answer"
