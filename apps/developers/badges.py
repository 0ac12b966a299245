"""Shields-style SVG badges of a model's arena standing, for READMEs and model cards."""

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape

from apps.developers import schemas
from apps.developers.feeds import xml_text

LABEL = "Rival"
CHAR_WIDTH = 6.5  # average advance of 11px Verdana, close enough for a badge
PADDING = 10
NAME_CHARS = 80


def badge_text(rating: schemas.Rating | None) -> tuple[str, str]:
    """The value and its colour: rank and rating ± interval, provisional, or unrated."""
    if rating is None:
        return "unrated", "#9f9f9f"
    figure = f"{rating.rating:.0f} ± {rating.interval:.0f}"
    if rating.provisional:
        return f"provisional · {figure}", "#dfb317"
    return f"#{rating.rank} · {figure}", "#4c1" if rating.rank == 1 else "#007ec6"


def _width(text: str) -> int:
    return round(len(text) * CHAR_WIDTH + PADDING * 2)


def badge_svg(model: schemas.Model) -> str:
    """The badge as SVG text; the model's name only in escaped title and aria-label text."""
    value, colour = badge_text(model.rating)
    label_width, value_width = _width(LABEL), _width(value)
    name = xml_text(model.name)[:NAME_CHARS]
    return render_to_string(
        "developers/badge.svg",
        {
            "label": LABEL,
            "value": value,
            "colour": colour,
            "name": name,
            "label_width": label_width,
            "value_width": value_width,
            "width": label_width + value_width,
            "label_x": label_width / 2,
            "value_x": label_width + value_width / 2,
        },
    )


def embed_snippets(model_slug: str, model_name: str) -> dict:
    """Markdown and HTML that show the badge linked to the model page (plain text: the
    template escapes it again when it shows it)."""
    badge_path = reverse("badges:model", args=[model_slug])
    badge = schemas.absolute(badge_path)
    page = schemas.absolute(reverse("catalog:model", args=[model_slug]))
    alt = f"Rival arena rating of {model_name}"
    markdown_alt = "".join(f"\\{c}" if c in "\\[]()<>*_`!" else c for c in alt)
    return {
        "badge_path": badge_path,
        "markdown": f"[![{markdown_alt}]({badge})]({page})",
        "html": f'<a href="{page}"><img src="{badge}" alt="{escape(alt)}"></a>',
    }
