"""URL patterns of the developer hub, mounted by rival/urls.py under their own prefixes."""

from django.urls import re_path

from apps.developers import views
from apps.developers.api import api
from apps.developers.http import public_get, public_patterns

_api_patterns, _api_app, api_namespace = api.urls

api_patterns = (
    [
        *public_patterns(_api_patterns),
        # Anything else under /api/v1/ is a problem too, not the HTML 404 page.
        re_path(r"^.*$", public_get(views.api_not_found), name="not-found"),
    ],
    _api_app,
)
