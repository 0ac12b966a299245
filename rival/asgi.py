"""ASGI entry point: /mcp goes to the MCP server (streamable HTTP), everything else to Django.

Run with any ASGI server, e.g. `gunicorn rival.asgi:application -k uvicorn.workers.UvicornWorker
--forwarded-allow-ips ""` (see README): the client address comes from TRUSTED_PROXIES alone,
not from the server's own proxy-header rewriting. Lifespan events go to the MCP app, which runs
its session manager in them. /mcp counts against the API's per-address rate limit.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rival.settings")
django_application = get_asgi_application()

from apps.developers.http import rate_limited_asgi  # noqa: E402  (needs Django set up)
from apps.developers.mcp_server import http_app  # noqa: E402

# The MCP endpoint counts against the same per-address quota as the API.
mcp_application = rate_limited_asgi(http_app())


async def application(scope, receive, send):
    if scope["type"] == "lifespan":
        return await mcp_application(scope, receive, send)
    path = scope.get("path", "")
    if path == "/mcp" or path.startswith("/mcp/"):
        return await mcp_application(scope, receive, send)
    return await django_application(scope, receive, send)
