import logging

from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.arena import selectors as arena
from apps.pages import selectors
from apps.responses import selectors as responses
from rival.web.seo import meta

logger = logging.getLogger(__name__)


@require_GET
def home(request):
    return render(
        request,
        "pages/home.html",
        {
            "counts": selectors.site_counts(),
            "newest": responses.newest_responses(),
            "featured": responses.featured_challenges(),
            "leaders": list(arena.latest_rows()[:5]),
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


@require_GET
def text_page(request, page: str):
    title, description = TEXT_PAGES[page]
    context = {"meta": meta(title, description, ("Home", "/"), (title, ""))}
    if page == "methodology":
        context["position_bias"] = arena.position_bias()
    return render(request, f"pages/{page}.html", context)


@require_GET
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
@require_GET
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
