from django import template

register = template.Library()


def compare_path(slug_a: str, slug_b: str, challenge_slug: str = "") -> str:
    """/compare/<a>-vs-<b>/[<challenge>/], slugs sorted so each pair has one URL."""
    first, second = sorted([slug_a, slug_b])
    path = f"/compare/{first}-vs-{second}/"
    return f"{path}{challenge_slug}/" if challenge_slug else path


@register.simple_tag
def compare_url(slug_a: str, slug_b: str, challenge_slug: str = "") -> str:
    return compare_path(slug_a, slug_b, challenge_slug)


@register.filter
def params(value) -> str:
    """Parameter counts as people write them: 122B, 7.5B, 400M."""
    if value in (None, ""):
        return ""
    value = int(value)
    for divisor, unit in ((10**12, "T"), (10**9, "B"), (10**6, "M")):
        if value >= divisor:
            number = value / divisor
            text = f"{number:.1f}".rstrip("0").rstrip(".")
            return f"{text}{unit}"
    return str(value)


@register.filter
def price(value) -> str:
    """USD per million tokens: $3, $0.15, $0.075."""
    if value is None:
        return ""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return f"${text}"
