"""RFC 9457 problem details: the one shape of every error the public API returns."""

import json
from http import HTTPStatus

from django.http import HttpResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem(
    request, status: int, detail: str, *, errors: list | None = None, headers: dict | None = None
) -> HttpResponse:
    """A problem+json response. `type` stays about:blank, so `title` is the status phrase."""
    body = {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors is not None:
        body["errors"] = errors
    return HttpResponse(
        json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE, headers=headers
    )
