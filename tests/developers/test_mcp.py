"""The MCP server through the SDK's own client: over stdio (`manage.py mcp`) and over
streamable HTTP (uvicorn serving rival.asgi), both on the test database."""

import asyncio
import sys

import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.conftest import ROOT
from tests.developers.conftest import server_env

pytestmark = pytest.mark.django_db(transaction=True)

TOOLS = {
    "search_models",
    "get_model",
    "list_challenges",
    "get_responses",
    "compare_models",
    "leaderboard",
}


async def exercise(target) -> dict:
    """Every tool once, as an agent would call them."""
    async with Client(target, read_timeout_seconds=60) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        results = {"tools": tools}
        calls = {
            "search": ("search_models", {"query": "acme"}),
            "model": ("get_model", {"slug": "alpha"}),
            "challenges": ("list_challenges", {"output_type": "code"}),
            "responses": ("get_responses", {"model": "beta", "limit": 1}),
            "compare": ("compare_models", {"models": ["alpha", "beta"]}),
            "leaderboard": ("leaderboard", {"category": "coding"}),
            "styled": ("leaderboard", {"style_control": True, "sort": "score"}),
            "verified": ("leaderboard", {"voters": "verified", "category": "coding"}),
            "missing": ("get_model", {"slug": "nobody"}),
            "bad": ("compare_models", {"models": ["alpha"]}),
        }
        for key, (name, arguments) in calls.items():
            results[key] = await client.call_tool(name, arguments)
        return results


def check(results: dict) -> None:
    assert results["tools"] >= TOOLS
    data = {k: v.structured_content for k, v in results.items() if k != "tools"}
    assert [m["slug"] for m in data["search"]["items"]] == ["alpha", "beta"]
    assert data["model"]["rating"]["provisional"] is True
    assert [c["slug"] for c in data["challenges"]["items"]] == ["fizzbuzz"]
    page = data["responses"]
    assert len(page["items"]) == 1 and page["next_cursor"]
    assert page["items"][0]["reproducibility"]["tokens_out"] == 300
    assert data["compare"]["shared_challenges"] == 2
    assert [r["model"]["slug"] for r in data["leaderboard"]["rows"]] == ["alpha", "beta"]
    styled = data["styled"]
    assert styled["style_control"] is True and styled["sort"] == "score"
    assert {r["model"]["slug"] for r in styled["rows"]} == {"alpha", "beta"}
    assert all(r["plain"] and "rival_score" in r for r in styled["rows"])
    assert results["verified"].is_error and "overall only" in results["verified"].content[0].text
    assert results["missing"].is_error and "nobody" in results["missing"].content[0].text
    assert results["bad"].is_error and "two" in results["bad"].content[0].text


def test_tools_over_stdio(hub):
    params = StdioServerParameters(
        command=sys.executable, args=["manage.py", "mcp"], cwd=str(ROOT), env=server_env()
    )
    check(asyncio.run(exercise(params)))


def test_tools_over_streamable_http_beside_the_site(asgi_server, hub):
    check(asyncio.run(exercise(f"{asgi_server}/mcp")))
    # The same ASGI app still serves the site and the API.
    assert httpx.get(f"{asgi_server}/api/v1/models").json()["items"][0]["slug"] == "alpha"


def test_http_transport_refuses_other_hosts(asgi_server, hub):
    answer = httpx.post(
        f"{asgi_server}/mcp",
        headers={"Host": "evil.example", "Content-Type": "application/json"},
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
    )
    assert answer.status_code in (403, 421)
