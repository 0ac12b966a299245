from django import template
from django.conf import settings

from apps.arena import selectors

register = template.Library()


@register.simple_tag
def arena_min_votes() -> int:
    """Counted votes a model needs before the leaderboard ranks it."""
    return settings.ARENA_MIN_VOTES


@register.simple_tag
def style_coefficients():
    """The newest overall snapshot's fitted style coefficients (StyleCoefficients or None)."""
    return selectors.latest_style_coefficients()
