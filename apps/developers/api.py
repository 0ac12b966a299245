"""The read-only JSON API at /api/v1/: django-ninja, OpenAPI 3.1 from the schemas.

Views parse and validate, then call resources.py (shared with the MCP server). Every error is
an RFC 9457 problem; http.public_get adds CORS, rate limits and conditional GETs around all
of it (see urls.py).
"""

from datetime import datetime
from typing import Literal

import pydantic_core
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI, Path, Query
from ninja.errors import HttpError, ValidationError
from ninja.openapi.docs import DocsBase
from ninja.responses import NinjaJSONEncoder

from apps.challenges.models import OutputType
from apps.developers import resources, schemas
from apps.developers.http import set_last_modified
from apps.developers.problems import PROBLEM_CONTENT_TYPE, problem

SLUG = r"^[-a-zA-Z0-9_]+$"
CURSOR = r"^[-A-Za-z0-9_]+$"
MAX_ID = 2**63 - 1
ERRORS = {400: schemas.Problem, 404: schemas.Problem, 429: schemas.Problem}
_TIMES = NinjaJSONEncoder()


class ServerRenderedDocs(DocsBase):
    """Our own docs page: the schema's operations and parameters as plain HTML, so it needs
    no script (the site's CSP allows none inline) and nothing from a CDN."""

    def render_page(self, request: HttpRequest, api: "RivalAPI", **kwargs) -> HttpResponse:
        schema = api.get_openapi_schema(path_params=kwargs)
        operations = [
            {
                "id": operation["operationId"],
                "method": method.upper(),
                "path": path,
                "about": operation.get("description") or operation.get("summary", ""),
                "parameters": [_parameter(p) for p in operation.get("parameters", [])],
                "responses": [
                    (status, answer.get("description", ""))
                    for status, answer in operation.get("responses", {}).items()
                ],
            }
            for path, methods in schema["paths"].items()
            for method, operation in methods.items()
        ]
        return render(
            request,
            "developers/api_docs.html",
            {
                "info": schema["info"],
                "version": schema["openapi"],
                "operations": operations,
                "openapi_url": self.get_openapi_url(api, kwargs),
            },
        )


def _parameter(parameter: dict) -> dict:
    """One parameter as the docs page shows it: its type in words."""
    schema = parameter.get("schema", {})
    options = [s for s in schema.get("anyOf", [schema]) if s.get("type") != "null"]
    kinds = []
    for option in options:
        if "enum" in option:
            kinds.append("one of " + ", ".join(str(v) for v in option["enum"]))
        else:
            fmt = option.get("format")
            kinds.append(option.get("type", "string") + (f" ({fmt})" if fmt else ""))
    default = schema.get("default")
    return {
        "name": parameter["name"],
        "location": parameter["in"],
        "required": parameter.get("required", False),
        "type": " or ".join(kinds) + ("" if default is None else f"; default {default}"),
        "about": parameter.get("description", ""),
    }


class RivalAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """Ninja documents every response as application/json; ours of 400 and up are
        application/problem+json, and the schema says so."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for methods in schema["paths"].values():
            for operation in methods.values():
                for status, documented in operation.get("responses", {}).items():
                    content = documented.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        content[PROBLEM_CONTENT_TYPE] = content.pop("application/json")
        return schema


api = RivalAPI(
    title="Rival API",
    version="1",
    description=(
        "Read-only access to Rival's models, AI creators, challenges, responses, comparisons "
        "and arena leaderboards. No key needed; requests are rate-limited per address. Lists "
        "are paged with an opaque `cursor`; errors are RFC 9457 problem details."
    ),
    urls_namespace="api",
    docs=ServerRenderedDocs(),
)


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    errors = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type", "")}
        for e in exc.errors
    ]
    names = ", ".join(str(e["loc"][-1]) for e in errors if e["loc"]) or "the request"
    return problem(request, 400, f"Invalid value for {names}.", errors=errors)


@api.exception_handler(resources.InvalidParameter)
def _invalid_parameter(request, exc: resources.InvalidParameter):
    errors = [{"loc": ["query", exc.parameter], "msg": str(exc), "type": "value_error"}]
    return problem(request, 400, str(exc), errors=errors)


@api.exception_handler(resources.NotFound)
def _not_found(request, exc: resources.NotFound):
    return problem(request, 404, str(exc))


@api.exception_handler(Http404)
def _http404(request, exc):
    return problem(request, 404, "Nothing here.")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return problem(request, exc.status_code, str(exc))


def _rendered(response: HttpResponse, data: dict) -> HttpResponse:
    """`data`, already in its documented schema's shape, as JSON without validating it again:
    for the large replies built as plain dicts (schemas.leaderboard_row), serialised in Rust
    (pydantic_core), a fifth of json.dumps' time. Timestamps, at the top level only, are
    written as everywhere else in the API (ninja's encoder: milliseconds, Z). Tests hold
    these replies to the schema."""
    data = {k: _TIMES.default(v) if isinstance(v, datetime) else v for k, v in data.items()}
    response.content = pydantic_core.to_json(data)
    return response


def _listing(request, response: HttpResponse, listing: resources.Listing) -> dict:
    next_url = None
    if listing.next_cursor:
        query = request.GET.copy()
        query["cursor"] = listing.next_cursor
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        response["Link"] = f'<{next_url}>; rel="next"'
    set_last_modified(response, listing.last_modified)
    return {"items": listing.items, "next_cursor": listing.next_cursor, "next": next_url}


def _when(moment: datetime | None) -> datetime | None:
    """A client's timestamp, refused when it cannot be compared with ours (year 1 in a
    far-east zone is before the year 1 in UTC)."""
    try:
        return resources.aware(moment)
    except OverflowError as error:
        raise resources.InvalidParameter("updated_since", "Timestamp out of range.") from error


Slug = Query(None, pattern=SLUG, max_length=120)
SlugPath = Path(..., pattern=SLUG, max_length=120)
Cursor = Query(None, pattern=CURSOR, max_length=400, description="From a previous page.")
Limit = Query(resources.DEFAULT_LIMIT, ge=1, le=resources.MAX_LIMIT)
UpdatedSince = Query(None, description="ISO 8601; naive times are UTC.")
AddedSince = Query(None, description="Responses added to Rival at or after this time (ISO 8601).")


@api.get("/models", response={200: schemas.ModelPage, **ERRORS}, tags=["models"])
def list_models(
    request,
    response: HttpResponse,
    creator: str | None = Slug,
    status: Literal["active", "deprecated", "retired"] | None = Query(
        None, description="Default: active and deprecated (retired models are the Graveyard)."
    ),
    capability: str | None = Slug,
    modality: str | None = Slug,
    updated_since: datetime | None = UpdatedSince,
    sort: Literal[tuple(resources.MODEL_SORTS)] = "name",
    cursor: str | None = Cursor,
    limit: int = Limit,
):
    """AI models, filtered and sorted; an overall arena rating on each rated one."""
    listing = resources.list_models(
        creator=creator or "",
        status=status or "",
        capability=capability or "",
        modality=modality or "",
        updated_since=_when(updated_since),
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return _listing(request, response, listing)


@api.get("/models/{slug}", response={200: schemas.Model, **ERRORS}, tags=["models"])
def get_model(request, slug: str = SlugPath):
    """One model, retired ones included."""
    return resources.get_model(slug)


@api.get("/creators", response={200: schemas.CreatorPage, **ERRORS}, tags=["models"])
def list_creators(request, response: HttpResponse, cursor: str | None = Cursor, limit: int = Limit):
    """AI creators (the labs that make models) with their listed models."""
    return _listing(request, response, resources.list_creators(cursor=cursor, limit=limit))


@api.get("/challenges", response={200: schemas.ChallengePage, **ERRORS}, tags=["challenges"])
def list_challenges(
    request,
    response: HttpResponse,
    category: str | None = Slug,
    output_type: Literal[tuple(OutputType.values)] | None = None,
    sort: Literal[tuple(resources.CHALLENGE_SORTS)] = "title",
    cursor: str | None = Cursor,
    limit: int = Limit,
):
    """Published challenges (prompts) with how many responses each has."""
    listing = resources.list_challenges(
        category=category or "",
        output_type=output_type or "",
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return _listing(request, response, listing)


@api.get("/challenges/{slug}", response={200: schemas.Challenge, **ERRORS}, tags=["challenges"])
def get_challenge(request, slug: str = SlugPath):
    """One published challenge."""
    return resources.get_challenge(slug)


@api.get("/responses", response={200: schemas.ResponsePage, **ERRORS}, tags=["responses"])
def list_responses(
    request,
    response: HttpResponse,
    model: str | None = Slug,
    challenge: str | None = Slug,
    category: str | None = Slug,
    updated_since: datetime | None = AddedSince,
    sort: Literal[tuple(resources.RESPONSE_SORTS)] = "-collected_at",
    cursor: str | None = Cursor,
    limit: int = Limit,
):
    """Published responses with their reproducibility card. `content` is the model's raw,
    untrusted output: escape it before showing it."""
    listing = resources.list_responses(
        model=model or "",
        challenge=challenge or "",
        category=category or "",
        added_since=_when(updated_since),
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return _listing(request, response, listing)


@api.get("/compare", response={200: schemas.Comparison, **ERRORS}, tags=["compare"])
def compare(
    request,
    models: str = Query(
        ...,
        pattern=r"^[-a-zA-Z0-9_]+(,[-a-zA-Z0-9_]+){1,3}$",
        max_length=500,
        description="Two to four model slugs, comma-separated.",
    ),
):
    """Models side by side over the challenges all of them answered: each response's length,
    output tokens, latency and cost, with the single best marked; their ratings; and for two
    models, their head-to-head arena record."""
    return resources.compare_models(models.split(","))


@api.get("/leaderboard", response={200: schemas.Leaderboard, **ERRORS}, tags=["leaderboard"])
def leaderboard(
    request,
    response: HttpResponse,
    category: str | None = Slug,
    style_control: bool = Query(
        False,
        description="Headline rank, tier, rating and interval from the style-controlled fit "
        "(answer length and Markdown held equal), rows in that order. Every row carries both.",
    ),
    voters: Literal[resources.VOTERS] = Query(
        "all", description="verified: votes of verified voters only (overall board only)."
    ),
    sort: Literal[resources.BOARD_SORTS] = Query(
        "rank", description="score: by Rival Score instead of rank."
    ),
):
    """The newest ratings, overall or for one category, as the leaderboard page shows them:
    rank, rating, 95% interval, tier, votes, provisional flag, plain and style-controlled,
    with Rival Score and how many votes would flip each rank. Ranks separate only models
    whose intervals do not overlap."""
    board = resources.leaderboard(category, style_control=style_control, voters=voters, sort=sort)
    set_last_modified(response, board["computed_at"])
    return _rendered(response, board)


@api.get(
    "/leaderboard/snapshots",
    response={200: schemas.SnapshotPage, **ERRORS},
    tags=["leaderboard"],
)
def list_snapshots(
    request,
    response: HttpResponse,
    category: str | None = Slug,
    cursor: str | None = Cursor,
    limit: int = Limit,
):
    """Every past computation of a leaderboard, newest first."""
    listing = resources.list_snapshots(category=category, cursor=cursor, limit=limit)
    return _listing(request, response, listing)


@api.get(
    "/leaderboard/snapshots/{snapshot_id}",
    response={200: schemas.SnapshotDetail, **ERRORS},
    tags=["leaderboard"],
)
def get_snapshot(request, snapshot_id: int = Path(..., ge=1, le=MAX_ID)):
    """One past leaderboard with all its rows."""
    return resources.get_snapshot(snapshot_id)
