"""Reads for the catalog pages. Every function issues a fixed number of queries."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import (
    FETCH_PEERS,
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    Prefetch,
    Q,
    Value,
    When,
)
from django.http import Http404
from django.shortcuts import get_object_or_404

from apps.catalog.cards import MODEL_CARD_COLUMNS, ModelCard
from apps.catalog.models import AIModel, Capability, Modality, Provider
from rival.links import link
from rival.sqlrows import MARK_ID, MARK_OTHER_ID, MARK_TEXT, Prepared

# Sort keys offered on /models/: key → (label, ordering). Nulls go last whichever way.
MODEL_SORTS = {
    "newest": ("Newest", (F("release_date").desc(nulls_last=True), F("name").asc())),
    "name": ("Name", (F("name").asc(),)),
    "oldest": ("Oldest", (F("release_date").asc(nulls_last=True), F("name").asc())),
    "context": ("Largest context", (F("context_length").desc(nulls_last=True), F("name").asc())),
    "price": ("Cheapest input", (F("price_input_per_mtok").asc(nulls_last=True), F("name").asc())),
    "price-desc": (
        "Priciest input",
        (F("price_input_per_mtok").desc(nulls_last=True), F("name").asc()),
    ),
    # Ratings live in the arena; the view sorts by them after this name ordering.
    "rating": ("Arena rating", (F("name").asc(),)),
}
DEFAULT_MODEL_SORT = "newest"


@dataclass(frozen=True)
class ModelFilters:
    q: str = ""
    creator: str = ""
    capability: str = ""
    category: str = ""
    size: str = ""
    status: str = ""
    sort: str = DEFAULT_MODEL_SORT


def filter_choices() -> dict:
    """Options for the /models/ filter form: three small queries."""
    return {
        "creators": list(Provider.objects.values_list("slug", "name")),
        "capabilities": list(Capability.objects.values_list("slug", "name")),
        "categories": list(Modality.objects.values_list("slug", "name")),
    }


def _models_matching(filters: ModelFilters):
    """Models matching the filters, ordered by the chosen sort (unevaluated). Without a status
    filter the graveyard is left out; `status=retired` shows it."""
    models = AIModel.objects.with_provider()
    models = models.filter(status=filters.status) if filters.status else models.listed()
    if filters.q:
        models = models.filter(Q(name__icontains=filters.q) | Q(slug__icontains=filters.q))
    if filters.creator:
        models = models.filter(provider__slug=filters.creator)
    if filters.capability:
        models = models.filter(capabilities__slug=filters.capability)
    if filters.category:
        models = models.filter(modalities__slug=filters.category)
    if filters.size:
        models = models.filter(size_class=filters.size)
    ordering = MODEL_SORTS.get(filters.sort, MODEL_SORTS[DEFAULT_MODEL_SORT])[1]
    return models.order_by(*ordering, "id")


def model_list(filters: ModelFilters):
    """Models matching the filters as rows of MODEL_CARD_COLUMNS, unevaluated and ready to
    paginate; `model_card_list` makes a page of them cards."""
    return _models_matching(filters).values_list(*MODEL_CARD_COLUMNS)


def model_card_list(rows) -> list[ModelCard]:
    """Rows of MODEL_CARD_COLUMNS (and any counts after them) as cards; no query but the rows'."""
    return [ModelCard(*row) for row in rows]


def model_cards(models, *counts: str) -> list[ModelCard]:
    """`models` (a queryset) as cards, with the named count annotations (`response_count`,
    `in_arena`, as responses.selectors.with_response_counts adds them); one query."""
    return model_card_list(models.values_list(*MODEL_CARD_COLUMNS, *counts))


def model_records(filters: ModelFilters, *, updated_since=None):
    """model_list's models with every column, their capabilities and modalities (two more
    queries): what the developer API and MCP server publish."""
    models = _models_matching(filters).prefetch_related("capabilities", "modalities")
    if updated_since is not None:
        models = models.filter(updated_at__gte=updated_since)
    return models


def model_detail(slug: str) -> AIModel:
    return get_object_or_404(
        AIModel.objects.with_provider().prefetch_related("capabilities", "modalities"), slug=slug
    )


# Compiled once (rival/sqlrows.py): the ORM spent longer on these queries than the database.
_model_by_slug = Prepared(lambda slug: AIModel.objects.with_provider().filter(slug=slug), MARK_TEXT)


def model_for_page(slug: str) -> AIModel:
    """The model and its creator, without its tags: the model page lists those in a region
    it caches (model_tags), so a cached page does not fetch them. 404 when there is none."""
    found = _model_by_slug(slug)
    if not found:
        raise Http404("No AIModel matches the given query.")
    return found[0]


@dataclass(frozen=True)
class Tag:
    slug: str
    name: str


def _tag_rows(model_id: int):
    def tagged(tags, kind: str):
        labelled = tags.filter(models=model_id).annotate(kind=Value(kind, output_field=CharField()))
        # Without the tags' default ordering: SQLite refuses ORDER BY inside a UNION's parts
        # (the union is ordered as a whole below).
        return labelled.order_by().values_list("kind", "slug", "name")

    rows = tagged(Capability.objects, "capabilities").union(
        tagged(Modality.objects, "modalities"), all=True
    )
    return rows.order_by("kind", "name")


_tags_of = Prepared(_tag_rows, MARK_ID)


def model_tags(model: AIModel) -> dict[str, list[Tag]]:
    """The model's capabilities and categories (modalities), each list by name: one query,
    where prefetching them costs two."""
    found: dict[str, list[Tag]] = {"capabilities": [], "modalities": []}
    for kind, slug, name in _tags_of(model.pk):
        found[kind].append(Tag(slug, name))
    return found


RELATED_MODELS = 4


def _related_to(model_id: int, provider_id: int, size_class: str):
    return (
        AIModel.objects.listed()
        .exclude(pk=model_id)
        .with_provider()
        .only("id", "slug", "name", "provider__name", "provider__slug")
        .annotate(
            closeness=Case(
                When(provider_id=provider_id, then=Value(0)),
                When(size_class=size_class, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("closeness", F("release_date").desc(nulls_last=True), "name")[:RELATED_MODELS]
    )


_related = Prepared(_related_to, MARK_ID, MARK_OTHER_ID, MARK_TEXT)


def related_models(model: AIModel) -> list[AIModel]:
    """Models worth comparing with: same creator first, then same size, newest first."""
    return _related(model.pk, model.provider_id, model.size_class)


def creators():
    """Every AI creator with how many models it has listed and retired, and its listed
    models newest first (two queries)."""
    listed = (
        AIModel.objects.listed()
        .only("id", "slug", "name", "provider_id")
        .order_by(F("release_date").desc(nulls_last=True), "name")
    )
    return _creators_counted().prefetch_related(
        Prefetch("models", queryset=listed, to_attr="listed_models")
    )


def _creators_counted():
    """Every AI creator by name, with how many models it has listed and retired."""
    return Provider.objects.annotate(
        listed_count=Count("models", filter=~Q(models__status=AIModel.Status.RETIRED)),
        retired_count=Count("models", filter=Q(models__status=AIModel.Status.RETIRED)),
    ).order_by("name")


@dataclass(frozen=True)
class ModelLink:
    url: str
    name: str
    # AIModel's own property: it reads `name` only.
    short_name = AIModel.short_name


def creator_cards() -> list[Provider]:
    """`creators()` for the /creators/ page: the same providers and counts, with
    `listed_models` as plain links built from one query of (creator, slug, name) rows rather
    than a few hundred model instances (two queries)."""
    listed: dict[int, list[ModelLink]] = defaultdict(list)
    rows = (
        AIModel.objects.listed()
        .order_by(F("release_date").desc(nulls_last=True), "name")
        .values_list("provider_id", "slug", "name")
    )
    for provider_id, slug, name in rows:
        listed[provider_id].append(ModelLink(link("catalog:model", slug), name))
    providers = list(_creators_counted())
    for provider in providers:
        provider.listed_models = listed[provider.pk]
    return providers


def creator_detail(slug: str) -> Provider:
    return get_object_or_404(Provider, slug=slug)


def creator_models(provider: Provider):
    """The creator's models, newest first (unevaluated: the view adds their response counts
    from the responses app, then makes them cards with `model_cards`)."""
    return AIModel.objects.filter(provider=provider).order_by(
        F("release_date").desc(nulls_last=True), "name"
    )


# What a graveyard card shows.
GRAVE_FIELDS = ("id", "slug", "name", "release_date", "retired_on", "retirement_reason")
GRAVE_FIELDS += ("provider__name",)


def graveyard():
    """Retired models, most recently retired first (the view adds their response counts from
    the responses app, which alone knows which responses are public)."""
    return (
        AIModel.objects.retired()
        .with_provider()
        .only(*GRAVE_FIELDS)
        .order_by(F("retired_on").desc(nulls_last=True), "name")
        .fetch_mode(FETCH_PEERS)
    )
