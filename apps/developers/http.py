"""What every public machine-readable endpoint (API, feeds, badges, datasets) does around
its view: CORS for GET, a per-address rate limit with RateLimit headers, replies kept in the
cache under the content version, and ETag / Last-Modified with 304s."""

import functools
import hashlib
from urllib.parse import urlencode

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.urls import URLPattern
from django.utils.cache import get_conditional_response, patch_cache_control, set_response_etag
from django.utils.http import http_date, parse_http_date_safe

from apps.developers.problems import problem
from rival.cacheversion import CONTENT_VERSION_KEY, content_version
from rival.web import visitors

EXPOSED_HEADERS = "ETag, Last-Modified, Link, RateLimit, RateLimit-Policy, Retry-After"
SAFE_METHODS = ("GET", "HEAD")
# What a stored reply keeps besides its body; ETag, caching and rate headers are added anew.
STORED_HEADERS = ("Content-Type", "Last-Modified", "Link")
REPLY_MAX_BYTES = 512 * 1024


def _cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    return response


def _preflight() -> HttpResponse:
    response = HttpResponse(status=204)
    response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    response["Access-Control-Allow-Headers"] = "If-None-Match, If-Modified-Since, Accept"
    response["Access-Control-Max-Age"] = "86400"
    return _cors(response)


def _rate_headers(window: visitors.RateWindow) -> dict:
    # draft-ietf-httpapi-ratelimit-headers: a named policy, then the quota left and its reset.
    return {
        "RateLimit-Policy": f'"per-address";q={window.limit};w={window.window}',
        "RateLimit": f'"per-address";r={window.remaining};t={window.resets_in}',
    }


def set_last_modified(response: HttpResponse, moment) -> None:
    """Views call this with the newest timestamp of what they serve, when they know one."""
    if moment is not None:
        response["Last-Modified"] = http_date(moment.timestamp())


def rate_limit(request) -> tuple[dict, HttpResponse | None]:
    """Count one request against its address's quota (API_RATE_LIMIT, one quota for the API,
    feeds, badges, datasets and /mcp alike): the RateLimit headers to send, and the 429
    problem to answer instead when the quota is spent. The count is per address group (IPv6
    /64, rival.web.visitors: X-Forwarded-For only from TRUSTED_PROXIES), keyed by a salted
    hash, never the address. `request` needs only `META` (REMOTE_ADDR, HTTP_X_FORWARDED_FOR)
    and `path`."""
    address = visitors.ip_group(visitors.client_ip(request))
    key = visitors.ip_hash(address, purpose="api")
    window = visitors.rate_window(f"api:{key}", settings.API_RATE_LIMIT)
    headers = _rate_headers(window)
    if not window.exceeded:
        return headers, None
    return headers, problem(
        request,
        429,
        f"More than {window.limit} requests in {window.window} seconds from your "
        f"address. Try again in {window.resets_in} seconds.",
        headers={**headers, "Retry-After": str(window.resets_in)},
    )


def _reply_key(request) -> str:
    query = urlencode(sorted(request.GET.lists()), doseq=True)
    # The host too: a reply's Link header names it.
    url = f"{request.get_host()}{request.path}?{query}"
    return "api:reply:" + hashlib.sha256(url.encode()).hexdigest()


def _replayed(request) -> HttpResponse | None:
    """The stored reply to the same URL at the current content version, if any: one round
    trip to the cache for the version and the reply together."""
    if request.method != "GET" or not settings.API_REPLY_CACHE_SECONDS:
        return None
    found = cache.get_many([CONTENT_VERSION_KEY, _reply_key(request)])
    stored = found.get(_reply_key(request))
    if stored is None or stored["version"] != found.get(CONTENT_VERSION_KEY):
        return None
    response = HttpResponse(stored["content"], content_type=stored["headers"]["Content-Type"])
    for name, value in stored["headers"].items():
        response[name] = value
    return response


def _stored(request, response: HttpResponse) -> HttpResponse:
    """Keep a public 200 for API_REPLY_CACHE_SECONDS under the content version it was
    rendered at (rival/cacheversion.py: every write that changes what the site shows bumps
    it), so a repeated request skips the queries and the serialisation while nothing changed.
    Replies that are one visitor's (a CSRF token, a cookie) or large are not kept."""
    if (
        request.method != "GET"
        or not settings.API_REPLY_CACHE_SECONDS
        or response.status_code != 200
        or response.streaming
        or response.cookies
        or request.META.get("CSRF_COOKIE_USED", False)
        or len(response.content) > REPLY_MAX_BYTES
    ):
        return response
    version = content_version()
    headers = {name: response[name] for name in STORED_HEADERS if response.has_header(name)}
    cache.set(
        _reply_key(request),
        {"version": version, "headers": headers, "content": response.content},
        settings.API_REPLY_CACHE_SECONDS,
    )
    return response


def public_get(view):
    """Wrap a read-only view for anonymous machine clients. The limit counts every request,
    304s included."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method == "OPTIONS":
            return _preflight()
        headers, refused = rate_limit(request)
        if refused is not None:
            return _cors(refused)
        # HEAD is GET without the body; ninja's routes know only GET.
        head = request.method == "HEAD"
        if head:
            request.method = "GET"
        response = _replayed(request) or _stored(request, view(request, *args, **kwargs))
        if request.method in SAFE_METHODS and response.status_code == 200:
            if not response.streaming and not response.has_header("ETag"):
                set_response_etag(response)
            # A page that carries a CSRF token (the HTML docs) is one visitor's, not the public's.
            private = request.META.get("CSRF_COOKIE_USED", False)
            patch_cache_control(
                response, public=not private, private=private, max_age=settings.API_CACHE_SECONDS
            )
            last_modified = response.get("Last-Modified")
            response = get_conditional_response(
                request,
                etag=response.get("ETag"),
                last_modified=last_modified and parse_http_date_safe(last_modified),
                response=response,
            )
        for name, value in headers.items():
            response[name] = value
        if head and not response.streaming:
            response.content = b""
        return _cors(response)

    return wrapped


def public_patterns(patterns: list) -> list:
    """`public_get` around every view of a list of URL patterns (ninja's API has no hook of
    its own around all of its views)."""
    return [URLPattern(p.pattern, public_get(p.callback), p.default_args, p.name) for p in patterns]


class _Peer:
    """What `rate_limit` reads of a request, from an ASGI scope: the peer's address and the
    X-Forwarded-For header (repeated headers joined, as Django joins them)."""

    def __init__(self, scope):
        client = scope.get("client") or ("", 0)
        forwarded = [
            value.decode("latin-1")
            for name, value in scope.get("headers", [])
            if name == b"x-forwarded-for"
        ]
        self.META = {"REMOTE_ADDR": client[0] or ""}
        if forwarded:
            self.META["HTTP_X_FORWARDED_FOR"] = ",".join(forwarded)
        self.path = scope.get("path", "")


def rate_limited_asgi(app):
    """An ASGI app with the API's per-address limit in front (for /mcp): a 429 problem with
    Retry-After once the quota is spent, RateLimit headers on every answer. The peer address
    is the ASGI server's: run it without proxy-header rewriting (uvicorn --no-proxy-headers)
    so that TRUSTED_PROXIES stays the one rule for X-Forwarded-For."""

    async def limited(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        headers, refused = await sync_to_async(rate_limit, thread_sensitive=False)(_Peer(scope))
        if refused is not None:
            await send(
                {
                    "type": "http.response.start",
                    "status": refused.status_code,
                    "headers": [(k.encode(), v.encode()) for k, v in refused.items()],
                }
            )
            await send({"type": "http.response.body", "body": refused.content})
            return None
        extra = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        return await app(scope, receive, send_with_headers)

    return limited
