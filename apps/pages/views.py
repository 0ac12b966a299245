import logging
from functools import wraps

from django.core.cache import cache
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import cache_page, never_cache
from django.views.decorators.http import require_safe

from apps.arena import selectors as arena
from apps.pages import insights as insights_charts
from apps.pages import selectors
from apps.responses import selectors as responses
from rival.web.pagecache import public_page
from rival.web.seo import meta

logger = logging.getLogger(__name__)


def cache_page_keyed_on_page_number(timeout: int):
    """`cache_page`, but keyed on the page number `p` only: cache_page keys on the whole query
    string, so `?x=<random>` would store one copy per request and fill the cache. Every other
    parameter is dropped before the view sees it; `p` must be a positive integer (written
    without leading zeros, 1 meaning no `p`), else 404 — so the keys are bounded by the real
    pages (an empty page is a 404, which is never cached)."""

    def decorator(view):
        cached_view = cache_page(timeout)(view)

        @wraps(view)
        def wrapper(request, *args, **kwargs):
            kept = QueryDict(mutable=True)
            page = request.GET.get("p")
            if page is not None:
                if not page.isascii() or not page.isdigit() or int(page) < 1:
                    raise Http404("No such sitemap page")
                if int(page) > 1:
                    kept["p"] = str(int(page))
            request.GET = kept
            request.META["QUERY_STRING"] = kept.urlencode()
            return cached_view(request, *args, **kwargs)

        return wrapper

    return decorator


@public_page()
@require_safe
def home(request):
    return render(
        request,
        "pages/home.html",
        {
            "counts": selectors.site_counts(),
            # Called by the template only when its fragments are not cached.
            "newest": responses.newest_responses,
            "featured": responses.featured_challenges,
            "leaders": arena.board_leaders(),
            "meta": meta(
                "Rival — compare AI models by what they actually write",
                "Rival compares AI models by their actual output: the same challenges sent to "
                "every model, responses side by side, blind votes and honest ratings.",
            ),
        },
    )


TEXT_PAGES = {
    "methodology": (
        "Methodology",
        "How Rival collects one-shot responses from every model with the same settings, "
        "and how blind arena votes become ratings with 95% intervals.",
    ),
    "privacy": (
        "Privacy",
        "What Rival stores about visitors and voters (very little), and what it never does.",
    ),
    "terms": (
        "Terms",
        "Plain terms for using Rival: model outputs as written, the open dataset, fair voting.",
    ),
}


@public_page()
@require_safe
def text_page(request, page: str):
    title, description = TEXT_PAGES[page]
    context = {"meta": meta(title, description, ("Home", "/"), (title, ""))}
    if page == "methodology":
        context["position_bias"] = arena.position_bias()
    return render(request, f"pages/{page}.html", context)


@require_safe
def robots_txt(request):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /r/",
        "Disallow: /arena/",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


@never_cache
@require_safe
def healthz(request):
    """Liveness: 200 when the database and the cache both answer, else 503 naming the failure."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        logger.warning("healthz: database check failed: %s", type(exc).__name__)
        checks["database"] = "unreachable"
    try:
        cache.set("healthz", "1", 5)
        checks["cache"] = "ok" if cache.get("healthz") == "1" else "unreachable"
    except Exception as exc:  # noqa: BLE001
        logger.warning("healthz: cache check failed: %s", type(exc).__name__)
        checks["cache"] = "unreachable"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **checks}, status=200 if healthy else 503
    )


@require_safe
def insights(request):
    return render(
        request,
        "pages/insights.html",
        {
            "insights": insights_charts.chart_contexts(*insights_charts.CHARTS),
            "meta": meta(
                "Insights",
                "Charts of Rival's data: rating against price with the Pareto frontier, rating "
                "history, speed by creator, the cost of every challenge, the cheapest top-tier "
                "model per category.",
                ("Home", "/"),
                ("Insights", ""),
            ),
        },
    )


@require_safe
def insight(request, chart: str):
    if chart not in insights_charts.CHARTS:
        raise Http404("No such chart.")
    (context,) = insights_charts.chart_contexts(chart)
    return render(
        request,
        "pages/insight.html",
        {
            "insight": context,
            "meta": meta(
                context["chart"].title,
                context["chart"].summary,
                ("Home", "/"),
                ("Insights", reverse("pages:insights")),
                (context["chart"].title, ""),
            ),
        },
    )
