"""The MCP server through the SDK's own client: over stdio (`manage.py mcp`) and over
streamable HTTP (uvicorn serving rival.asgi), both on the test database."""

import asyncio
import secrets
import sys

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.conftest import ROOT
from tests.developers.conftest import server_env, uvicorn_serving

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


RATE_LIMIT = 4
TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
MCP_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-06-18",
}


@pytest.fixture(scope="module")
def limited_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """The ASGI app with a small quota, behind 127.0.0.1 as its one trusted proxy: clients
    that connect from another loopback address (127.x.y.z) are untrusted peers."""
    with uvicorn_serving(
        tmp_path_factory.mktemp("limited"),
        API_RATE_LIMIT=f"{RATE_LIMIT}/60",
        TRUSTED_PROXIES="127.0.0.1/32",
    ) as url:
        yield url


def from_address(local: str, **kwargs) -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=local), timeout=30, **kwargs)


def fresh_loopback() -> str:
    """A loopback address no earlier run counted (the quota lives in Redis for a minute)."""
    return f"127.{secrets.randbelow(250) + 1}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


def fresh_public() -> str:
    return f"198.51.{secrets.randbelow(100) + 100}.{secrets.randbelow(250) + 1}"


def mcp_post(client: httpx.Client, url: str, **headers) -> httpx.Response:
    return client.post(f"{url}/mcp", json=TOOLS_LIST, headers={**MCP_HEADERS, **headers})


def test_mcp_is_rate_limited_per_address_with_retry_after(limited_server, hub):
    peer = fresh_loopback()
    with from_address(peer) as client:
        # An untrusted peer's X-Forwarded-For is ignored: a new forged address on every
        # request does not buy a new quota.
        answers = [
            mcp_post(client, limited_server, **{"X-Forwarded-For": fresh_public()})
            for _ in range(RATE_LIMIT + 1)
        ]
    assert [a.status_code for a in answers] == [200] * RATE_LIMIT + [429]
    assert answers[0].json()["result"]["tools"]
    assert answers[0].headers["RateLimit-Policy"] == f'"per-address";q={RATE_LIMIT};w=60'
    assert answers[0].headers["RateLimit"].startswith(f'"per-address";r={RATE_LIMIT - 1};t=')
    refused = answers[-1]
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["status"] == 429 and refused.json()["instance"] == "/mcp"
    # The quota is one per address across the API and /mcp.
    with from_address(peer) as client:
        assert client.get(f"{limited_server}/api/v1/models").status_code == 429
    # Another address is not held back.
    with from_address(fresh_loopback()) as client:
        assert mcp_post(client, limited_server).status_code == 200


def test_mcp_believes_x_forwarded_for_from_a_trusted_proxy_only(limited_server, hub):
    """Through the SDK's own client, as an agent behind the site's proxy would connect: the
    proxy (127.0.0.1, trusted) names the client in X-Forwarded-For."""

    async def agent(address: str, calls: int) -> list[int]:
        statuses = []

        async def seen(response):
            statuses.append(response.status_code)

        http = httpx2.AsyncClient(
            transport=httpx2.AsyncHTTPTransport(local_address="127.0.0.1"),
            headers={"X-Forwarded-For": address},
            event_hooks={"response": [seen]},
            timeout=30,
        )
        transport = streamable_http_client(f"{limited_server}/mcp", http_client=http)
        try:
            async with http, Client(transport, read_timeout_seconds=30) as client:
                for _ in range(calls):
                    await client.list_tools()
        except Exception:  # the SDK's error for a refused request; the statuses tell
            pass
        return statuses

    first, neighbour = fresh_public(), fresh_public()
    statuses = asyncio.run(agent(first, RATE_LIMIT + 1))
    assert statuses.count(200) + statuses.count(202) == RATE_LIMIT and statuses[-1] == 429
    # Behind the same proxy, another client has a quota of its own.
    assert set(asyncio.run(agent(neighbour, 1))) <= {200, 202}
