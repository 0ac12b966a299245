"""Nothing arena-only leaves through the developer surfaces: not a response, not its text,
not even a count. Arena-only means an unreleased response (blind) or any response to an
arena-only challenge (docs/arena.md)."""

import asyncio
import gzip
import json

import pyarrow.parquet as pq
import pytest
from mcp import Client

from apps.developers import datasets
from apps.developers.mcp_server import server
from apps.responses.models import Response
from tests.factories import ChallengeFactory, ResponseFactory

SECRET = "arena-only-secret"


@pytest.fixture
def pool(hub):
    """The hub plus arena-only answers: gamma's unreleased answer to the haiku (gamma has no
    public one there), beta's unreleased answer to a new coding challenge, and alpha's
    released answer to an arena-only challenge."""
    coding = hub["categories"]["coding"]
    haiku = hub["challenges"]["haiku"]
    fresh = ChallengeFactory(slug="fresh", title="Fresh", category=coding)
    sealed = ChallengeFactory(slug="sealed", title="Sealed", category=coding, arena_only=True)
    blind = [
        ResponseFactory(model=hub["models"]["gamma"], challenge=haiku, blind=True, content=SECRET),
        ResponseFactory(model=hub["models"]["beta"], challenge=fresh, blind=True, content=SECRET),
        ResponseFactory(model=hub["models"]["alpha"], challenge=sealed, content=SECRET),
    ]
    assert not Response.objects.visible().filter(pk__in=[r.pk for r in blind]).exists()
    return {**hub, "blind": blind}


def api(client, path, **params):
    answer = client.get(f"/api/v1/{path}", params)
    assert answer.status_code == 200, answer.content
    assert SECRET not in answer.content.decode()
    return answer.json()


@pytest.mark.django_db
def test_responses_list_leaves_arena_only_answers_out_whatever_the_filter(client, pool):
    hidden = {r.pk for r in pool["blind"]}
    for params in (
        {},
        {"model": "gamma"},
        {"model": "beta"},
        {"model": "alpha"},
        {"challenge": "haiku"},
        {"challenge": "fresh"},
        {"challenge": "sealed"},
        {"category": "coding"},
        {"sort": "added_at", "limit": 100},
    ):
        items = api(client, "responses", **params)["items"]
        assert not hidden & {item["id"] for item in items}, params
    assert api(client, "responses", challenge="sealed")["items"] == []
    assert api(client, "responses", challenge="fresh")["items"] == []


@pytest.mark.django_db
def test_challenge_counts_count_public_answers_only(client, pool):
    counts = {c["slug"]: c["response_count"] for c in api(client, "challenges")["items"]}
    # haiku: alpha, beta and old in public; gamma's answer is still blind.
    assert counts["haiku"] == 3 and counts["fizzbuzz"] == 3
    assert counts["fresh"] == 0 and counts["sealed"] == 0
    assert api(client, "challenges/haiku")["response_count"] == 3
    assert api(client, "challenges/sealed")["response_count"] == 0
    by_count = api(client, "challenges", sort="title")["items"]
    assert {c["slug"]: c["response_count"] for c in by_count} == counts


@pytest.mark.django_db
def test_compare_counts_and_sides_ignore_arena_only_answers(client, pool):
    # alpha and gamma share only fizzbuzz in public; gamma's haiku answer is blind.
    body = api(client, "compare", models="alpha,gamma")
    assert body["shared_challenges"] == 1 and body["partial_challenges"] == 1
    assert [row["challenge"]["slug"] for row in body["challenges"]] == ["fizzbuzz"]
    # alpha's answer to the arena-only challenge is no partial one.
    body = api(client, "compare", models="alpha,beta")
    assert body["shared_challenges"] == 2 and body["partial_challenges"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "responses.rss",
        "responses.atom",
        "models/gamma.rss",
        "models/alpha.atom",
        "models/beta.rss",
        "challenges/haiku.rss",
        "challenges/fresh.atom",
        "challenges/sealed.rss",
    ],
)
def test_feeds_carry_no_arena_only_answer(client, pool, path):
    answer = client.get(f"/feeds/{path}")
    assert answer.status_code == 200
    text = answer.content.decode()
    assert SECRET not in text
    for response in pool["blind"]:
        assert f"/{response.model.slug}/{response.challenge.slug}" not in text


@pytest.mark.django_db
def test_dataset_files_and_their_row_counts_hold_public_answers_only(client, pool, tmp_path):
    manifest = datasets.build(tmp_path)
    public = Response.objects.visible().count()
    rows = {f["name"]: f["rows"] for f in manifest["files"]}
    assert rows["jsonl/responses.jsonl"] == public
    for name, count in rows.items():
        if name.startswith("responses."):
            assert count == public, name
    for name in rows:
        path = tmp_path / name
        if name.endswith(".parquet"):
            text = json.dumps(pq.read_table(path).to_pylist(), default=str)
        elif name.endswith(".gz"):
            text = gzip.decompress(path.read_bytes()).decode()
        else:
            text = path.read_text()
        assert SECRET not in text, name


@pytest.mark.django_db(transaction=True)
def test_mcp_tools_serve_no_arena_only_answer(pool):
    async def ask() -> list:
        async with Client(server) as client:
            return [
                await client.call_tool("get_responses", arguments)
                for arguments in (
                    {"model": "gamma", "limit": 50},
                    {"challenge": "sealed"},
                    {"challenge": "haiku", "limit": 50},
                )
            ] + [
                await client.call_tool("list_challenges", {"limit": 50}),
                await client.call_tool("compare_models", {"models": ["alpha", "gamma"]}),
            ]

    gamma, sealed, haiku, challenges, compare = asyncio.run(ask())
    for result in (gamma, sealed, haiku, challenges, compare):
        assert not result.is_error
        assert SECRET not in json.dumps(result.structured_content)
    assert [r["challenge"]["slug"] for r in gamma.structured_content["items"]] == ["fizzbuzz"]
    assert sealed.structured_content["items"] == []
    assert len(haiku.structured_content["items"]) == 3
    counts = {c["slug"]: c["response_count"] for c in challenges.structured_content["items"]}
    assert counts["haiku"] == 3 and counts["sealed"] == 0
    assert compare.structured_content["shared_challenges"] == 1
