from functools import partial

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from apps.arena import selectors as arena
from apps.catalog import selectors
from apps.catalog.models import AIModel
from apps.responses import selectors as responses
from rival.web.htmx import partial_or_page
from rival.web.pagecache import public_page
from rival.web.seo import meta

MODELS_PER_PAGE = 24


class ModelFilterForm(forms.Form):
    """The /models/ GET form. Unknown values are dropped, never an error page."""

    q = forms.CharField(required=False, max_length=100, label="Search by name")
    creator = forms.ChoiceField(required=False, label="AI creator")
    capability = forms.ChoiceField(required=False, label="Capability")
    category = forms.ChoiceField(required=False, label="Category")
    size = forms.ChoiceField(
        required=False, label="Size", choices=[("", "Any size"), *AIModel.Size.choices]
    )
    status = forms.ChoiceField(
        required=False,
        label="Status",
        choices=[("", "Active and deprecated"), *AIModel.Status.choices],
    )
    sort = forms.ChoiceField(
        required=False,
        label="Sort by",
        choices=[(key, label) for key, (label, _) in selectors.MODEL_SORTS.items()],
    )

    def __init__(self, data, choices: dict):
        super().__init__(data)
        self.fields["creator"].choices = [("", "All creators"), *choices["creators"]]
        self.fields["capability"].choices = [("", "Any capability"), *choices["capabilities"]]
        self.fields["category"].choices = [("", "Any category"), *choices["categories"]]

    def filters(self) -> selectors.ModelFilters:
        self.is_valid()
        values = {name: value for name, value in self.cleaned_data.items() if value}
        return selectors.ModelFilters(**values)


@public_page("q", "creator", "capability", "category", "size", "status", "sort", "page")
@require_safe
@vary_on_headers("HX-Request")
def model_list(request):
    form = ModelFilterForm(request.GET, selectors.filter_choices())
    filters = form.filters()
    models = selectors.model_list(filters)
    if filters.sort == "rating":
        # A few hundred light cards at most: sorting them here beats reaching into the arena.
        models = arena.ratings_sorted(
            selectors.model_card_list(models), arena.latest_ratings(), model_id=_card_id
        )
    page = Paginator(models, MODELS_PER_PAGE).get_page(request.GET.get("page"))
    # The cards, rated; called by the template only when its fragment is not cached.
    if filters.sort == "rating":
        cards = partial(list, page.object_list)
    else:
        cards = partial(_rated_cards, page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        partial_or_page(request, "catalog/model_list.html", "results"),
        {
            "form": form,
            "filters": filters,
            "page": page,
            "cards": cards,
            "query": query.urlencode(),
            "meta": meta(
                "All AI models" + (f" — page {page.number}" if page.number > 1 else ""),
                "Every AI model on Rival: filter by creator, capability, category, size and "
                "status; sort by release date, context length or price; read what each wrote.",
                ("Home", "/"),
                ("Models", ""),
            ),
        },
    )


def _card_id(card) -> int:
    return card.id


def _rated_cards(rows) -> list:
    cards = selectors.model_card_list(rows)
    return arena.ratings_attach(cards, arena.latest_ratings(), model_id=_card_id)


def _rating_of(model: AIModel):
    return arena.latest_ratings().get(model.pk)


@public_page()
@require_safe
def model_detail(request, slug: str):
    model = selectors.model_for_page(slug)
    return render(
        request,
        "catalog/model_detail.html",
        {
            "model": model,
            # Called by the template only when its fragment is not cached.
            "rating": partial(_rating_of, model),
            "responses": partial(responses.model_responses, model),
            "tags": partial(selectors.model_tags, model),
            "related": partial(selectors.related_models, model),
            "meta": meta(
                model.name,
                f"{model.name} by {model.provider.name}: specifications, capabilities, and every "
                f"response it wrote on Rival. {model.description}",
                ("Home", "/"),
                ("Models", reverse("catalog:list")),
                (model.name, ""),
            ),
        },
    )


@public_page()
@require_safe
def creator_list(request):
    return render(
        request,
        "catalog/creator_list.html",
        {
            # Called by the template only when its fragment is not cached.
            "creators": selectors.creator_cards,
            "meta": meta(
                "AI creators",
                "The labs behind the AI models on Rival, with how many of their models we track.",
                ("Home", "/"),
                ("AI creators", ""),
            ),
        },
    )


@public_page()
@require_safe
def creator_detail(request, slug: str):
    provider = selectors.creator_detail(slug)
    return render(
        request,
        "catalog/creator_detail.html",
        {
            "provider": provider,
            "models": selectors.model_cards(
                responses.with_response_counts(selectors.creator_models(provider), "model"),
                "response_count",
                "in_arena",
            ),
            "meta": meta(
                f"{provider.name} AI models",
                f"Every {provider.name} model on Rival, with specifications and responses. "
                f"{provider.description}",
                ("Home", "/"),
                ("AI creators", reverse("catalog:creators")),
                (provider.name, ""),
            ),
        },
    )


@public_page()
@require_safe
def graveyard(request):
    return render(
        request,
        "catalog/graveyard.html",
        {
            "models": responses.with_response_counts(selectors.graveyard(), "model"),
            "meta": meta(
                "The Graveyard: retired AI models",
                "AI models that have been retired: when and why, with their last responses "
                "still browsable.",
                ("Home", "/"),
                ("The Graveyard", ""),
            ),
        },
    )
