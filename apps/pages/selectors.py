from django.core.cache import cache

from apps.catalog.models import AIModel, Provider
from apps.challenges.models import Challenge
from apps.responses import selectors as responses

SITE_COUNTS_SECONDS = 60


def site_counts() -> dict[str, int]:
    """Headline counts for the home page. Counting every visible response scans the table,
    and a minute-old figure is as good as a live one, so they are cached briefly."""
    return cache.get_or_set("pages:site_counts", _site_counts, SITE_COUNTS_SECONDS)


def _site_counts() -> dict[str, int]:
    visible, in_arena = responses.pool_sizes()
    return {
        "models": AIModel.objects.listed().count(),
        "creators": Provider.objects.count(),
        "challenges": Challenge.objects.published().count(),
        "responses": visible,
        "in_arena": in_arena,
    }
