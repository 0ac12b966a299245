"""Site-wide error pages."""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.views.defaults import server_error as django_server_error

logger = logging.getLogger(__name__)

# How long a visitor (or a proxy) is told to wait before trying again while the database is
# away; a restart usually takes a few seconds.
RETRY_AFTER_SECONDS = 5


def server_error(request):
    """handler500. An error because the database cannot be reached (restarting, connection
    refused or dropped) is a 503 "back in a moment" page with Retry-After, rendered without
    touching the database (no request context: no session, no messages); anything else is
    Django's usual 500."""
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s", type(exc).__name__)
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return django_server_error(request)
