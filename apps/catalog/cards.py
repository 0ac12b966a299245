"""A model as the model list and a creator's page show it (components/model_card.html): plain
values from one row, formatted as the card shows them when the template asks, so a page of
cards builds no model instances and runs no template filter per card."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from apps.catalog.models import AIModel
from rival.formatting import month_year, thousands, whole_number
from rival.links import link

# A card's columns, in ModelCard's field order.
MODEL_CARD_COLUMNS = ("id", "slug", "name", "status", "release_date", "size_class")
MODEL_CARD_COLUMNS += ("context_length", "price_input_per_mtok", "price_output_per_mtok")
MODEL_CARD_COLUMNS += ("parameters_total", "provider__slug", "provider__name")

MISSING = "—"
_STATUSES = dict(AIModel.Status.choices)
_SIZES = dict(AIModel.Size.choices)


def parameter_count(value) -> str:
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


def price_per_mtok(value) -> str:
    """USD per million tokens: $3, $0.15, $0.075."""
    if value is None:
        return ""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return f"${text}"


@dataclass
class ModelCard:
    """One model card. `rating` (a leaderboard RatingRow or None) is set by the view from the
    arena; `response_count` and `in_arena` come with the row when the page counts them."""

    id: int
    slug: str
    name: str
    status: str
    release_date: date | None
    size_class: str
    context_length: int | None
    price_input_per_mtok: Decimal | None
    price_output_per_mtok: Decimal | None
    parameters_total: int | None
    provider_slug: str
    provider_name: str
    response_count: int | None = None
    in_arena: int | None = None
    rating: object = None

    @property
    def url(self) -> str:
        return link("catalog:model", self.slug)

    @property
    def provider_url(self) -> str:
        return link("catalog:creator", self.provider_slug)

    @property
    def status_label(self) -> str:
        """The status, unless the model is active."""
        if self.status == AIModel.Status.ACTIVE:
            return ""
        return str(_STATUSES.get(self.status, self.status))

    @property
    def release_iso(self) -> str:
        return self.release_date.isoformat() if self.release_date else ""

    @property
    def release_month(self) -> str:
        return month_year(self.release_date) if self.release_date else ""

    @property
    def size(self) -> str:
        """The size class (— when unknown), and the parameter count when known."""
        label = _SIZES.get(self.size_class, self.size_class) or MISSING
        if self.parameters_total:
            return f"{label} · {parameter_count(self.parameters_total)}"
        return str(label)

    @property
    def context(self) -> str:
        return thousands(self.context_length) if self.context_length else MISSING

    @property
    def prices(self) -> str:
        """Input / output price per million tokens, — for what is not known."""
        if self.price_input_per_mtok is None:
            return MISSING
        output = price_per_mtok(self.price_output_per_mtok) or MISSING
        return f"{price_per_mtok(self.price_input_per_mtok)} / {output}"

    @property
    def rating_label(self) -> str:
        return whole_number(self.rating.rating) if self.rating else ""

    @property
    def rating_interval(self) -> str:
        if not self.rating:
            return ""
        return f"{whole_number(self.rating.lower)}–{whole_number(self.rating.upper)}"

    @property
    def responses_label(self) -> str:
        return thousands(self.response_count) if self.response_count is not None else ""

    @property
    def in_arena_label(self) -> str:
        return thousands(self.in_arena) if self.in_arena else ""
