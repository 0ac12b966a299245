from django.views.decorators.http import require_safe

from apps.developers.problems import problem


@require_safe
def api_not_found(request):
    return problem(request, 404, "No such endpoint. The schema is at /api/v1/openapi.json.")
