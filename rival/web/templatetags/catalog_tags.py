from django import template

from apps.catalog.cards import parameter_count, price_per_mtok
from apps.compare.selectors import compare_url as compare_models_url
from apps.compare.selectors import pair_challenge_url
from rival.web.markup import html_join

register = template.Library()


@register.simple_tag
def compare_url(slug_a: str, slug_b: str, challenge_slug: str = "") -> str:
    """The canonical compare page of two models, or of their answers to one challenge."""
    if challenge_slug:
        return pair_challenge_url([slug_a, slug_b], challenge_slug)
    return compare_models_url([slug_a, slug_b])


@register.filter
def params(value) -> str:
    """Parameter counts as people write them: 122B, 7.5B, 400M."""
    return parameter_count(value)


@register.filter
def price(value) -> str:
    """USD per million tokens: $3, $0.15, $0.075."""
    return price_per_mtok(value)


# One item as the template loop wrote it, its whitespace included: the page stays byte for
# byte the same.
_RESPONSE_LINK = (
    '\n                <li><a href="{}">{}</a><span class="badge">{}</span></li>\n              '
)


@register.simple_tag
def response_links(links) -> str:
    """The `<li>` items of a model page's response list (apps/responses/selectors.py
    `ResponseLink`), escaped as the template loop they replace escaped them: a busy model lists
    a few hundred, and the loop cost ~2 ms per page."""
    return html_join(_RESPONSE_LINK, ((r.url, r.title, r.output_type) for r in links))
