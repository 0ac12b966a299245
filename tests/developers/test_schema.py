"""Schemathesis against the live API schema: every operation, generated requests, no 5xx and
every reply as documented (status, content type, headers, body)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES_PER_OPERATION = 15
# A schema cannot say which cursors the API issued, or that the models to compare must be
# different and exist: such requests are well-formed and still rightly refused (400/404,
# with problem details the other checks do validate).
EXCLUDED = [positive_data_acceptance]


def test_every_operation_behaves_as_its_schema_says(live_server, hub, settings):
    settings.API_RATE_LIMIT = "1000000/60"
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 10

    for operation in operations:

        @hypothesis_settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case):
            case.call_and_validate(base_url=live_server.url, excluded_checks=EXCLUDED)

        check()
