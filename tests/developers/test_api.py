"""The JSON API at /api/v1/ as a client sees it."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from apps.catalog.models import AIModel
from rival.cacheversion import content_version_bump
from tests.factories import AIModelFactory, ResponseFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def get(client, path, **params):
    return client.get(f"/api/v1/{path}", params)


def slugs(page):
    return [item["slug"] for item in page.json()["items"]]


def test_models_list_leaves_out_the_graveyard_unless_asked(client, hub):
    assert slugs(get(client, "models")) == ["alpha", "beta", "gamma"]
    assert slugs(get(client, "models", status="retired")) == ["old"]


def test_models_filter_by_creator_capability_and_modality(client, hub):
    assert slugs(get(client, "models", creator="zenith")) == ["gamma"]
    assert slugs(get(client, "models", capability="reasoning")) == ["alpha"]
    assert slugs(get(client, "models", modality="text")) == ["alpha", "beta"]
    assert slugs(get(client, "models", modality="vision", creator="acme")) == ["alpha"]


def test_models_sort_both_ways_and_filter_by_update_time(client, hub):
    assert slugs(get(client, "models", sort="-name")) == ["gamma", "beta", "alpha"]
    later = timezone.now() + timedelta(seconds=1)
    AIModel.objects.filter(slug="beta").update(updated_at=later)
    assert slugs(get(client, "models", updated_since=later.isoformat())) == ["beta"]
    assert slugs(get(client, "models", sort="-updated_at"))[0] == "beta"


def test_model_carries_specs_and_overall_rating(client, hub):
    alpha = get(client, "models/alpha").json()
    assert alpha["creator"] == {"slug": "acme", "name": "Acme"}
    assert alpha["capabilities"] == ["reasoning"]
    assert sorted(alpha["modalities"]) == ["text", "vision"]
    assert alpha["rating"]["rank"] is None  # provisional models are not ranked yet
    assert alpha["rating"]["lower"] <= alpha["rating"]["rating"] <= alpha["rating"]["upper"]
    assert alpha["rating"]["provisional"] is True
    assert alpha["url"].endswith("/models/alpha/")
    assert get(client, "models/gamma").json()["rating"] is None
    assert get(client, "models/old").json()["retirement_reason"] == "Superseded."


def test_cursor_pages_neither_skip_nor_repeat_when_rows_are_inserted(client, hub):
    first = get(client, "models", limit=2).json()
    assert [m["slug"] for m in first["items"]] == ["alpha", "beta"]
    # A model that sorts before the cursor arrives between the two requests.
    AIModelFactory(slug="aardvark", name="Acme: Aardvark")
    second = client.get(first["next"]).json()
    assert [m["slug"] for m in second["items"]] == ["gamma"]
    assert second["next_cursor"] is None and second["next"] is None


def test_next_page_is_also_in_the_link_header(client, hub):
    page = get(client, "models", limit=1)
    assert page["Link"] == f'<{page.json()["next"]}>; rel="next"'


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("models", {"limit": "0"}, "limit"),
        ("models", {"limit": "101"}, "limit"),
        ("models", {"limit": "many"}, "limit"),
        ("models", {"sort": "price"}, "sort"),
        ("models", {"status": "alive"}, "status"),
        ("models", {"creator": "a\x00b"}, "creator"),
        ("models", {"updated_since": "yesterday"}, "updated_since"),
        ("models", {"cursor": "not-a-cursor"}, "cursor"),
        ("responses", {"cursor": "W10"}, "cursor"),
        ("challenges", {"output_type": "poem"}, "output_type"),
        ("compare", {"models": "alpha"}, "models"),
        ("compare", {"models": "alpha,alpha"}, "models"),
        ("compare", {"models": "alpha,beta,gamma,old,alpha"}, "models"),
        ("compare", {}, "models"),
        ("leaderboard/snapshots/0", {}, "snapshot_id"),
        ("leaderboard/snapshots/99999999999999999999", {}, "snapshot_id"),
    ],
)
def test_bad_parameters_are_problem_details_naming_the_parameter(
    client, hub, path, params, parameter
):
    page = get(client, path, **params)
    assert page.status_code == 400
    assert page["Content-Type"] == PROBLEM
    body = page.json()
    assert body["status"] == 400 and body["title"] == "Bad Request"
    assert any(e["loc"][-1] == parameter for e in body["errors"]), body


def test_a_cursor_from_another_sort_is_refused(client, hub):
    cursor = get(client, "models", limit=1).json()["next_cursor"]
    page = get(client, "models", sort="-name", cursor=cursor)
    assert page.status_code == 400
    assert "another sort" in page.json()["detail"]


@pytest.mark.parametrize(
    "path",
    ["models/nobody", "leaderboard?category=nothing", "leaderboard/snapshots/12345", "nowhere/"],
)
def test_unknown_things_are_404_problems(client, hub, path):
    page = client.get(f"/api/v1/{path}")
    assert page.status_code == 404
    assert page["Content-Type"] == PROBLEM
    assert page.json()["status"] == 404


def test_compare_unknown_model_is_404(client, hub):
    assert get(client, "compare", models="alpha,nobody").status_code == 404


def test_responses_never_include_unpublished_or_hidden_challenges(client, hub):
    items = get(client, "responses", limit=100).json()["items"]
    assert len(items) == 6
    assert all(r["challenge"]["slug"] != "draft" for r in items)
    assert all(r["content"] != "unpublished secret" for r in items)


def test_responses_filter_and_carry_the_reproducibility_card(client, hub):
    items = get(client, "responses", model="alpha", category="coding").json()["items"]
    assert [(r["model"]["slug"], r["challenge"]["slug"]) for r in items] == [("alpha", "fizzbuzz")]
    card = items[0]["reproducibility"]
    assert card["tokens_out"] == 300 and card["latency_ms"] == 1200
    assert card["cost_usd"] == 0.0012 and card["finish_reason"] == "stop"
    assert card["gateway_model_id"] == "alpha"
    haiku = get(client, "responses", challenge="haiku", sort="collected_at").json()["items"]
    assert [r["model"]["slug"] for r in haiku] == ["alpha", "beta", "old"]


def test_responses_added_since(client, hub):
    moment = timezone.now()
    fresh = ResponseFactory(model=hub["models"]["gamma"], challenge=hub["challenges"]["haiku"])
    items = get(client, "responses", updated_since=moment.isoformat()).json()["items"]
    assert [r["id"] for r in items] == [fresh.pk]


def test_challenges_filter_by_category_and_output_type(client, hub):
    page = get(client, "challenges").json()["items"]
    assert [c["slug"] for c in page] == ["fizzbuzz", "haiku"]
    assert page[0]["response_count"] == 3
    assert slugs(get(client, "challenges", output_type="code")) == ["fizzbuzz"]
    assert slugs(get(client, "challenges", category="writing")) == ["haiku"]


def test_creators_list_their_listed_models(client, hub):
    items = get(client, "creators").json()["items"]
    zenith = next(c for c in items if c["slug"] == "zenith")
    assert zenith["listed_models"] == 1 and zenith["retired_models"] == 1
    assert [m["slug"] for m in zenith["models"]] == ["gamma"]


def test_compare_two_models_over_shared_challenges(client, hub):
    body = get(client, "compare", models="beta,alpha").json()
    assert [m["slug"] for m in body["models"]] == ["beta", "alpha"]
    assert body["shared_challenges"] == 2
    assert body["head_to_head"]["wins"] == [1, 11]
    assert body["head_to_head"]["ties"] == 1
    sides = body["challenges"][0]["sides"]
    assert [s["model"] for s in sides] == ["beta", "alpha"]
    assert sides[0]["output_tokens"] == 300


def test_compare_three_models_has_no_head_to_head(client, hub):
    body = get(client, "compare", models="alpha,beta,gamma").json()
    assert body["head_to_head"] is None
    assert body["shared_challenges"] == 1 and body["partial_challenges"] == 1


def test_leaderboard_overall_and_per_category(client, hub):
    overall = get(client, "leaderboard").json()
    assert overall["category"] is None
    assert [r["model"]["slug"] for r in overall["rows"]] == ["alpha", "beta"]
    row = overall["rows"][0]
    assert row["votes"] == 13 and row["provisional"] is True
    assert row["interval"] == pytest.approx((row["upper"] - row["lower"]) / 2, abs=0.1)
    coding = get(client, "leaderboard", category="coding").json()
    assert coding["category"]["slug"] == "coding"
    assert sum(r["votes"] for r in coding["rows"]) == 18


def test_snapshot_history_and_one_snapshot(client, hub):
    history = get(client, "leaderboard/snapshots").json()["items"]
    assert len(history) == 1 and history[0]["category"] is None
    detail = get(client, f"leaderboard/snapshots/{history[0]['id']}").json()
    assert [r["model"]["slug"] for r in detail["rows"]] == ["alpha", "beta"]
    coding = get(client, "leaderboard/snapshots", category="coding").json()["items"]
    assert coding[0]["category"]["slug"] == "coding"


def test_etag_and_last_modified_give_304(client, hub):
    page = get(client, "models")
    assert page.status_code == 200 and page["ETag"] and page["Last-Modified"]
    again = client.get("/api/v1/models", headers={"if-none-match": page["ETag"]})
    assert again.status_code == 304 and again.content == b""
    since = client.get("/api/v1/models", headers={"if-modified-since": page["Last-Modified"]})
    assert since.status_code == 304
    AIModel.objects.filter(slug="beta").update(updated_at=timezone.now() + timedelta(minutes=1))
    content_version_bump()  # what every writer that skips signals does
    changed = client.get("/api/v1/models", headers={"if-none-match": page["ETag"]})
    assert changed.status_code == 200


def test_get_is_open_to_every_origin(client, hub):
    page = client.get("/api/v1/models", headers={"origin": "https://elsewhere.example"})
    assert page["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in page["Access-Control-Expose-Headers"]
    preflight = client.options("/api/v1/models", headers={"origin": "https://elsewhere.example"})
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"


def test_writes_are_not_allowed(client, hub):
    assert client.post("/api/v1/models").status_code == 405


@override_settings(API_RATE_LIMIT="3/60")
def test_rate_limit_per_address_with_headers_and_retry_after(client, hub):
    pages = [client.get("/api/v1/models", REMOTE_ADDR="203.0.113.5") for _ in range(3)]
    assert [p.status_code for p in pages] == [200, 200, 200]
    assert pages[0]["RateLimit-Policy"] == '"per-address";q=3;w=60'
    assert pages[0]["RateLimit"].startswith('"per-address";r=2;t=')
    # A forged X-Forwarded-For is not believed without trusted proxies.
    over = client.get(
        "/api/v1/models", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="198.51.100.1"
    )
    assert over.status_code == 429
    assert over["Content-Type"] == PROBLEM
    assert 1 <= int(over["Retry-After"]) <= 60
    assert over["RateLimit"].startswith('"per-address";r=0;')
    assert client.get("/api/v1/models", REMOTE_ADDR="203.0.113.6").status_code == 200


@override_settings(API_RATE_LIMIT="2/60")
def test_one_ipv6_64_is_one_address(client, hub):
    for host in ("1", "2"):
        assert client.get("/api/v1/models", REMOTE_ADDR=f"2001:db8::{host}").status_code == 200
    assert client.get("/api/v1/models", REMOTE_ADDR="2001:db8::ffff:3").status_code == 429
    assert client.get("/api/v1/models", REMOTE_ADDR="2001:db8:0:1::1").status_code == 200


QUERY_BUDGETS = {
    "models": ("/api/v1/models?limit=100", 1),
    "model": ("/api/v1/models/alpha", 4),
    "creators": ("/api/v1/creators", 2),
    "challenges": ("/api/v1/challenges", 1),
    "responses": ("/api/v1/responses?limit=100", 1),
    "compare": ("/api/v1/compare?models=alpha,beta,gamma", 4),
    "compare two": ("/api/v1/compare?models=alpha,beta", 5),
    # The category, the snapshot, its rows (as values: see resources.ROW_VALUES).
    "leaderboard": ("/api/v1/leaderboard?category=coding", 3),
    "leaderboard styled": ("/api/v1/leaderboard?style_control=true&sort=score", 2),
    "leaderboard verified": ("/api/v1/leaderboard?voters=verified&style_control=true", 3),
    "snapshots": ("/api/v1/leaderboard/snapshots", 1),
}


@pytest.mark.parametrize("name", QUERY_BUDGETS)
def test_query_count_does_not_grow_with_the_data(client, hub, django_assert_max_num_queries, name):
    url, budget = QUERY_BUDGETS[name]
    with django_assert_max_num_queries(budget):
        assert client.get(url).status_code == 200
    for _ in range(6):
        model = AIModelFactory(provider=hub["models"]["alpha"].provider)
        model.modalities.add(*hub["models"]["alpha"].modalities.all())
        for challenge in hub["challenges"].values():
            ResponseFactory(model=model, challenge=challenge)
    with django_assert_max_num_queries(budget):
        assert client.get(url).status_code == 200


def test_openapi_schema_is_3_1_and_documents_problems(client, hub):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    assert "/api/v1/responses" in schema["paths"]
    errors = schema["paths"]["/api/v1/models"]["get"]["responses"]["400"]["content"]
    assert list(errors) == [PROBLEM]


def test_docs_page_lists_every_endpoint_without_scripts_of_its_own(client, hub):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    for path in client.get("/api/v1/openapi.json").json()["paths"]:
        assert f"GET {path}" in html
    assert "<script>" not in html and "cdn" not in html.lower()


def test_head_is_get_without_a_body(client, hub):
    page = client.head("/api/v1/models")
    assert page.status_code == 200 and page.content == b""
    assert page["ETag"] == get(client, "models")["ETag"]


@pytest.mark.parametrize(
    "moment",
    ["0937-03-31T15:10:57-17:48", "2026-01-01T00:00:00+23:59", "0001-01-01T00:00:00+01:00"],
)
def test_timestamps_with_far_offsets_are_answered_not_crashed_on(client, hub, moment):
    page = get(client, "models", updated_since=moment)
    assert page.status_code in (200, 400)
    assert page["Content-Type"] in ("application/json; charset=utf-8", PROBLEM)


def test_a_repeated_request_is_answered_from_the_cache_until_content_changes(
    client, hub, django_assert_num_queries
):
    first = get(client, "models")
    with django_assert_num_queries(0):
        again = get(client, "models")
    assert again.content == first.content and again["ETag"] == first["ETag"]
    assert again.get("Link") == first.get("Link")
    assert again["Last-Modified"] == first["Last-Modified"]
    assert again["RateLimit"] != first["RateLimit"]  # per request, never stored
    # A write bumps the content version: the next reply is fresh.
    AIModelFactory(slug="aardvark", name="Aardvark", provider=hub["models"]["alpha"].provider)
    assert slugs(get(client, "models"))[0] == "aardvark"
