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
  conditional request;
- stores the body gzipped, and sends it so to clients that accept gzip (its own ETag).

It is the first middleware: a request without a session or messages cookie is answered from
the cache before any other middleware runs (no session, CSRF, auth or header middleware: a
hit costs about what a trivial view does), with every header the rest of the stack gave the
page when it was stored. Which views are public pages is looked up once per path.

Signed-in visitors always get a fresh render, and pages that are not public (the arena, the
Lab, the admin: anything per visitor) are sent `Cache-Control: private, no-store` unless the
view set its own policy. PAGE_CACHE_SECONDS (0: off) bounds how long a page is kept; the
version makes it stale much sooner whenever content changes.
"""

import gzip
import hashlib
import re
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpResponse, QueryDict
from django.urls import Resolver404, resolve
from django.utils.cache import get_conditional_response, patch_cache_control, patch_vary_headers
from django.utils.http import http_date

from rival.cacheversion import CONTENT_VERSION_KEY, content_version

SAFE_METHODS = ("GET", "HEAD")
ACCEPTS_GZIP = re.compile(r"\bgzip\b")
# What Django renders per-visitor state from: the session and queued messages.
VISITOR_COOKIES = (settings.SESSION_COOKIE_NAME, "messages")


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


# In every key: a change to what CachedPage holds bumps it, so a deploy never unpickles an
# entry stored by the previous code.
PAGE_FORMAT = 2


@dataclass(frozen=True)
class CachedPage:
    version: int
    status: int
    # Every header the page left the whole middleware stack with, its caching headers included.
    headers: tuple[tuple[str, str], ...]
    # The body, compressed once when stored: nearly every client takes it so, and Redis holds
    # and sends a fifth of the bytes. Cached pages hold no secret (no CSRF token, no session),
    # so compressing them next to reflected input gives BREACH nothing to find.
    gzipped: bytes
    etag: str
    last_modified: int


class AnonymousPageCacheMiddleware:
    """Serves and stores public pages for anonymous visitors; see the module docstring.

    First in MIDDLEWARE: a cookie-less GET or HEAD of a public page is answered from here,
    before any other middleware runs, with the headers the stack gave the page when it was
    stored. Everything else goes down the stack; a render that may be stored is stored here on
    its way out, so the cached headers are the ones the stack really sent."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self._from_cache(request) or self._respond(request)
        if request.method == "HEAD" and not response.streaming:
            # The length the GET would send, without the body (gunicorn would drop it anyway,
            # logging a warning for every monitor's HEAD).
            response["Content-Length"] = str(len(response.content))
            response.content = b""
        return response

    def _from_cache(self, request):
        """The cached page for a request that carries no visitor state, or None."""
        if (
            request.method not in SAFE_METHODS
            or not settings.PAGE_CACHE_SECONDS
            or any(name in request.COOKIES for name in VISITOR_COOKIES)
        ):
            return None
        page = _public_page(request.path_info)
        if page is None:
            return None
        return _lookup(request, _key(request, page, _kept(request, page.params)))

    def _respond(self, request):
        response = self.get_response(request)
        key = getattr(request, "_page_cache_key", None)
        if key is None or not _storable(request, response):
            _private(response)
            return response
        response["ETag"] = f'"{hashlib.sha256(response.content).hexdigest()[:32]}"'
        response["Last-Modified"] = http_date(request._page_cache_time)
        _revalidate(response)
        page = CachedPage(
            version=request._page_cache_version,
            status=response.status_code,
            headers=tuple(response.items()),
            gzipped=gzip.compress(response.content, compresslevel=6, mtime=0),
            etag=response["ETag"],
            last_modified=request._page_cache_time,
        )
        cache.set(key, page, settings.PAGE_CACHE_SECONDS)
        return _answer(request, page)

    def process_view(self, request, view_func, view_args, view_kwargs):
        page = getattr(view_func, "public_page", None)
        if page is None or request.method not in SAFE_METHODS:
            return None
        request.GET = _kept(request, page.params)
        request.META["QUERY_STRING"] = request.GET.urlencode()
        if not settings.PAGE_CACHE_SECONDS or _signed_in(request):
            return None
        key = _key(request, page, request.GET)
        missed = getattr(request, "_page_cache_missed", None)
        if missed is not None and missed[0] == key:
            # The cookie-less lookup in __call__ already missed: no second round trip.
            version = missed[1]
        else:
            cached = _lookup(request, key)
            if cached is not None:
                return cached
            version = request._page_cache_missed[1]
        if any(name in request.COOKIES for name in VISITOR_COOKIES):
            # Rendered for a visitor with a session: served fresh, never stored.
            return None
        request._page_cache_key = key
        request._page_cache_version = version
        request._page_cache_time = int(time.time())
        return None


@lru_cache(maxsize=4096)
def _public_page(path_info: str) -> PublicPage | None:
    """The public-page marking of the view this path resolves to (None: not a public page).
    Memoised: the URLconf does not change while a process runs, and resolving costs more than
    the rest of a cache hit."""
    try:
        match = resolve(path_info)
    except Resolver404:
        return None
    return getattr(match.func, "public_page", None)


@receiver(setting_changed)
def _urlconf_changed(*, setting, **kwargs) -> None:
    if setting == "ROOT_URLCONF":
        _public_page.cache_clear()


def _lookup(request, key: str) -> HttpResponse | None:
    """The stored answer for `key` if it is of the current content version: one round trip
    for both. On a miss, remembers the key and version for storing the render."""
    found = cache.get_many([CONTENT_VERSION_KEY, key])
    version = found.get(CONTENT_VERSION_KEY) or content_version()
    cached = found.get(key)
    if cached is not None and cached.version == version:
        return _answer(request, cached)
    request._page_cache_missed = (key, version)
    return None


def _private(response) -> None:
    """Per-visitor HTML, or a page rendered for one: no cache may keep it."""
    html = response.get("Content-Type", "").startswith("text/html")
    if html and "Cache-Control" not in response:
        patch_cache_control(response, private=True, no_store=True)


def _kept(request, params: tuple[str, ...]) -> QueryDict:
    """The allowed parameters only, in a fixed order: all the view gets to see."""
    kept = QueryDict(mutable=True)
    if request.META.get("QUERY_STRING"):
        for name in params:
            values = request.GET.getlist(name)
            if values:
                kept.setlist(name, values)
    kept._mutable = False
    return kept


def _signed_in(request) -> bool:
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    return request.user.is_authenticated


def _key(request, page: PublicPage, query: QueryDict) -> str:
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
    parts = "\n".join([request.scheme, request.get_host(), request.path, query.urlencode(), htmx])
    digest = hashlib.sha256(parts.encode("utf-8", "surrogateescape")).hexdigest()
    return f"page:{PAGE_FORMAT}:{digest}"


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
        and "Content-Encoding" not in response
    )


def _revalidate(response) -> None:
    # Browsers revalidate every time (a 304 costs one cache read); Vary: Cookie keeps shared
    # caches from handing the anonymous page to a signed-in visitor.
    patch_cache_control(response, max_age=0, must_revalidate=True)
    patch_vary_headers(response, ["Cookie", "Accept-Encoding"])


def _answer(request, page: CachedPage) -> HttpResponse:
    """The stored page as this request takes it: gzipped if it accepts that (with an ETag of
    its own, as the bytes differ), else plain."""
    headers = dict(page.headers)
    if ACCEPTS_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
        content = page.gzipped
        etag = headers["ETag"] = f'{page.etag[:-1]}-gzip"'
        headers["Content-Encoding"] = "gzip"
        headers["Content-Length"] = str(len(content))
    else:
        content, etag = gzip.decompress(page.gzipped), page.etag
    response = HttpResponse(content, status=page.status, headers=headers)
    if "HTTP_IF_NONE_MATCH" not in request.META and "HTTP_IF_MODIFIED_SINCE" not in request.META:
        return response
    return get_conditional_response(
        request, etag=etag, last_modified=page.last_modified, response=response
    )
