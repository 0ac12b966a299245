"""Whole public pages for anonymous visitors, from the cache.

A view opts in with `@public_page("q", "page", …)`, naming the query parameters its output
depends on. For an anonymous GET or HEAD of such a view the middleware

- drops every other query parameter before the view sees it, so a made-up parameter can
  neither add a cache key nor leak into a cached page's links;
- keys the page on host, path, the allowed parameters, and the htmx headers that pick a
  partial (the views say `Vary: HX-Request`), and stores it with the content version it was
  rendered at (rival/cacheversion.py: bumped by every write that changes what pages show);
  a hit needs both in one round trip (MGET) and a matching version;
- stores only what a cookie-less request rendered without touching the session or the CSRF
  token and without setting a cookie, so nothing of one visitor reaches another;
- answers with an ETag (a digest of the body) and Last-Modified, and 304 to a matching
  conditional request.

Signed-in visitors always get a fresh render, and pages that are not public (the arena, the
Lab, the admin: anything per visitor) are sent `Cache-Control: private, no-store` unless the
view set its own policy. PAGE_CACHE_SECONDS (0: off) bounds how long a page is kept; the
version makes it stale much sooner whenever content changes.
"""

import hashlib
import time
from dataclasses import dataclass
from email.utils import formatdate

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, QueryDict
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers

from rival.cacheversion import CONTENT_VERSION_KEY, content_version

SAFE_METHODS = ("GET", "HEAD")
# What Django renders per-visitor state from: the session and queued messages.
VISITOR_COOKIES = (settings.SESSION_COOKIE_NAME, "messages")
# The headers a cached page is stored with; the outer middleware adds the rest every time.
STORED_HEADERS = ("Content-Type", "Vary", "Content-Language")


@dataclass(frozen=True)
class PublicPage:
    params: tuple[str, ...]
    htmx_targets: tuple[str, ...]


def public_page(*params: str, htmx_targets: tuple[str, ...] = ()):
    """Mark a view as a public page: the same for every anonymous visitor, a function of its
    URL, the query parameters named here (all others are dropped) and, for htmx requests, the
    target ids named in `htmx_targets` (any other target renders as if none was given)."""

    def decorate(view):
        view.public_page = PublicPage(tuple(sorted(params)), tuple(htmx_targets))
        return view

    return decorate


@dataclass(frozen=True)
class CachedPage:
    version: int
    status: int
    headers: tuple[tuple[str, str], ...]
    content: bytes
    etag: str
    last_modified: float


class AnonymousPageCacheMiddleware:
    """Serves and stores public pages for anonymous visitors; see the module docstring."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self._respond(request)
        if request.method == "HEAD" and not response.streaming:
            # The length the GET would send, without the body (gunicorn would drop it anyway,
            # logging a warning for every monitor's HEAD).
            response["Content-Length"] = str(len(response.content))
            response.content = b""
        return response

    def _respond(self, request):
        response = self.get_response(request)
        key = getattr(request, "_page_cache_key", None)
        if key is None or not _storable(request, response):
            if not getattr(request, "_page_cache_hit", False):
                _private(response)
            return response
        page = CachedPage(
            version=request._page_cache_version,
            status=response.status_code,
            headers=tuple((k, response[k]) for k in STORED_HEADERS if k in response),
            content=response.content,
            etag=f'"{hashlib.sha256(response.content).hexdigest()[:32]}"',
            last_modified=request._page_cache_time,
        )
        cache.set(key, page, settings.PAGE_CACHE_SECONDS)
        return _answer(request, page)

    def process_view(self, request, view_func, view_args, view_kwargs):
        page = getattr(view_func, "public_page", None)
        if page is None or request.method not in SAFE_METHODS:
            return None
        _keep_only(request, page.params)
        if not settings.PAGE_CACHE_SECONDS or _signed_in(request):
            return None
        key = _key(request, page)
        found = cache.get_many([CONTENT_VERSION_KEY, key])
        version = found.get(CONTENT_VERSION_KEY) or content_version()
        cached = found.get(key)
        if cached is not None and cached.version == version:
            request._page_cache_hit = True
            return _answer(request, cached)
        if any(name in request.COOKIES for name in VISITOR_COOKIES):
            # Rendered for a visitor with a session: served fresh, never stored.
            return None
        request._page_cache_key = key
        request._page_cache_version = version
        request._page_cache_time = float(int(time.time()))
        return None


def _private(response) -> None:
    """Per-visitor HTML, or a page rendered for one: no cache may keep it."""
    html = response.get("Content-Type", "").startswith("text/html")
    if html and "Cache-Control" not in response:
        patch_cache_control(response, private=True, no_store=True)


def _keep_only(request, params: tuple[str, ...]) -> None:
    """The view sees the allowed parameters only, in a fixed order."""
    kept = QueryDict(mutable=True)
    for name in params:
        values = request.GET.getlist(name)
        if values:
            kept.setlist(name, values)
    request.GET = kept
    request.GET._mutable = False
    request.META["QUERY_STRING"] = kept.urlencode()


def _signed_in(request) -> bool:
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    return request.user.is_authenticated


def _key(request, page: PublicPage) -> str:
    htmx = ""
    if request.META.get("HTTP_HX_REQUEST") == "true":
        target = request.META.get("HTTP_HX_TARGET", "")
        htmx = "|".join(
            [
                "hx",
                target if target in page.htmx_targets else "",
                request.META.get("HTTP_HX_HISTORY_RESTORE_REQUEST", ""),
            ]
        )
    parts = "\n".join(
        [request.scheme, request.get_host(), request.path, request.GET.urlencode(), htmx]
    )
    digest = hashlib.sha256(parts.encode("utf-8", "surrogateescape")).hexdigest()
    return f"page:{digest}"


def _storable(request, response) -> bool:
    """Only what no visitor could have made their own: a plain 200 that set no cookie,
    started no session and asked for no CSRF token."""
    session = getattr(request, "session", None)
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not (session is not None and session.modified)
        and "Cache-Control" not in response
    )


def _answer(request, page: CachedPage) -> HttpResponse:
    response = HttpResponse(page.content, status=page.status, headers=dict(page.headers))
    response["ETag"] = page.etag
    response["Last-Modified"] = formatdate(page.last_modified, usegmt=True)
    # Browsers revalidate every time (a 304 costs one cache read); Vary: Cookie keeps
    # shared caches from handing the anonymous page to a signed-in visitor.
    patch_cache_control(response, max_age=0, must_revalidate=True)
    patch_vary_headers(response, ["Cookie"])
    return get_conditional_response(
        request, etag=page.etag, last_modified=int(page.last_modified), response=response
    )
