from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from apps.developers import badges, examples, resources
from apps.developers.problems import problem
from rival.web.seo import meta


@require_safe
def api_not_found(request):
    return problem(request, 404, "No such endpoint. The schema is at /api/v1/openapi.json.")


@require_safe
def badge(request, slug: str):
    try:
        model = resources.get_model(slug)
    except resources.NotFound as error:
        raise Http404(str(error)) from error
    return HttpResponse(badges.badge_svg(model), content_type="image/svg+xml; charset=utf-8")


@require_safe
def hub(request):
    """The developer hub: what leaves the site and how, with examples that run."""
    base = settings.SITE_URL
    return render(
        request,
        "developers/hub.html",
        {
            "meta": meta(
                "Developer hub: API, feeds, badges, MCP",
                "Rival's data for developers: a JSON API with OpenAPI, RSS and Atom feeds, "
                "rating badges and an MCP server, with examples.",
                ("Home", "/"),
                ("Developers", ""),
            ),
            "base": base,
            "curl": examples.curl_examples(base),
            "python": examples.python_example(base),
            "mcp": examples.mcp_configs(base),
            "rate_limit": settings.API_RATE_LIMIT.split("/"),
        },
    )
