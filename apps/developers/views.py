from django.http import Http404, HttpResponse
from django.views.decorators.http import require_safe

from apps.developers import badges, resources
from apps.developers.problems import problem


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
