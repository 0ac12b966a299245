"""/developers/: its examples, as a reader would copy them, run against a live server."""

import asyncio
import contextlib
import html
import io
import json
import re
import subprocess
import sys

import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from tests.conftest import ROOT
from tests.developers.conftest import server_env
from tests.developers.test_mcp import TOOLS

pytestmark = pytest.mark.django_db(transaction=True)


def examples(page: str) -> list[tuple[str, str]]:
    blocks = re.findall(r'<code data-example="([a-z-]+)">(.*?)</code>', page, re.DOTALL)
    return [(kind, html.unescape(text)) for kind, text in blocks]


@pytest.fixture
def page(asgi_server, hub):
    answer = httpx.get(f"{asgi_server}/developers/")
    assert answer.status_code == 200
    return answer.text


def test_curl_examples_run(page, asgi_server):
    commands = [text for kind, text in examples(page) if kind == "curl"]
    assert len(commands) >= 4
    for command in commands:
        assert asgi_server in command
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (command, done.stderr)
        if " -sI " in command:
            headers = done.stdout.lower()
            assert "etag:" in headers and "ratelimit:" in headers
            assert "access-control-allow-origin: *" in headers
        else:
            assert "items" in json.loads(done.stdout) or "rows" in json.loads(done.stdout)


def test_python_example_runs(page):
    (code,) = [text for kind, text in examples(page) if kind == "python"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "developers-example.py", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0] == "3 models, 2 rated"
    assert lines[1].startswith("provisional Acme: Alpha: ")


async def tool_names(target) -> set[str]:
    async with Client(target, read_timeout_seconds=60) as client:
        return {tool.name for tool in (await client.list_tools()).tools}


def test_mcp_http_config_connects(page):
    (config,) = [text for kind, text in examples(page) if kind == "mcp-http"]
    server = json.loads(config)["mcpServers"]["rival"]
    assert server["type"] == "http"
    assert asyncio.run(tool_names(server["url"])) >= TOOLS


def test_mcp_stdio_config_connects(page):
    (config,) = [text for kind, text in examples(page) if kind == "mcp-stdio"]
    server = json.loads(config)["mcpServers"]["rival"]
    # Only the placeholders a reader fills in are replaced.
    assert server["cwd"] == "/path/to/rival" and set(server["env"]) == {"DATABASE_URL"}
    assert server["command"] == "python"
    params = StdioServerParameters(
        command=sys.executable, args=server["args"], cwd=str(ROOT), env=server_env()
    )
    assert asyncio.run(tool_names(params)) >= TOOLS


def test_hub_is_in_the_footer_and_the_sitemap(client):
    assert '<a href="/developers/">' in client.get("/").content.decode()
    assert "/developers/</loc>" in client.get("/sitemap-pages.xml").content.decode()
