from functools import partial

from django import forms
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from apps.arena import selectors as arena
from apps.challenges import selectors
from apps.challenges.models import OutputType
from apps.responses import selectors as response_selectors
from rival.web.htmx import partial_or_page
from rival.web.pagecache import public_page
from rival.web.seo import meta

CHALLENGES_PER_PAGE = 24
RESPONSES_PER_PAGE = 30


class ChallengeFilterForm(forms.Form):
    """The /challenges/ GET form. Unknown values are dropped, never an error page."""

    q = forms.CharField(required=False, max_length=100, label="Search challenges")
    category = forms.ChoiceField(required=False, label="Category")
    output_type = forms.ChoiceField(
        required=False, label="Output type", choices=[("", "Any output"), *OutputType.choices]
    )
    sort = forms.ChoiceField(
        required=False,
        label="Sort by",
        choices=[(key, label) for key, (label, _) in selectors.CHALLENGE_SORTS.items()],
    )

    def __init__(self, data, categories):
        super().__init__(data)
        self.fields["category"].choices = [("", "All categories"), *categories]

    def filters(self) -> selectors.ChallengeFilters:
        self.is_valid()
        values = {name: value for name, value in self.cleaned_data.items() if value}
        return selectors.ChallengeFilters(**values)


@public_page("q", "category", "output_type", "sort", "page")
@require_safe
@vary_on_headers("HX-Request")
def challenge_list(request):
    form = ChallengeFilterForm(request.GET, selectors.categories())
    filters = form.filters()
    page = Paginator(response_selectors.challenge_cards(filters), CHALLENGES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        partial_or_page(request, "challenges/challenge_list.html", "results"),
        {
            "form": form,
            "page": page,
            # The cards, counted; called by the template only when its fragment is not cached.
            "cards": partial(response_selectors.challenge_card_list, page.object_list),
            "query": query.urlencode(),
            "meta": meta(
                "Challenges" + (f" — page {page.number}" if page.number > 1 else ""),
                "The prompts every model on Rival answers, one shot each: writing, reasoning, "
                "code, web design, SVG drawing and images. Filter by category and output type.",
                ("Home", "/"),
                ("Challenges", ""),
            ),
        },
    )


def _model_id(card) -> int:
    return card.model_id


def _rated_cards(rows, challenge) -> list:
    cards = response_selectors.challenge_response_cards(rows, challenge)
    return arena.ratings_attach(cards, arena.latest_ratings(), model_id=_model_id)


@public_page("sort", "page")
@require_safe
@vary_on_headers("HX-Request")
def challenge_detail(request, slug: str):
    challenge = selectors.challenge_detail(slug)
    sort = request.GET.get("sort", "")
    if sort not in response_selectors.RESPONSE_SORTS:
        sort = response_selectors.DEFAULT_RESPONSE_SORT
    responses = response_selectors.challenge_responses(challenge, sort)
    if sort == "rating":
        # Ordered by ratings the database does not have: every response's card, rated.
        responses = arena.ratings_sorted(
            response_selectors.challenge_response_cards(responses, challenge),
            arena.latest_ratings(),
            model_id=_model_id,
        )
    paginator = Paginator(responses, RESPONSES_PER_PAGE)
    if sort != "rating":
        # The count of the same rows, compiled once, instead of the paginator's own count().
        paginator.count = response_selectors.responded_count(challenge.pk)
    page = paginator.get_page(request.GET.get("page"))
    # Called by the template only when its fragment is not cached.
    if sort == "rating":
        cards = partial(list, page.object_list)
    else:
        cards = partial(_rated_cards, page.object_list, challenge)
    return render(
        request,
        partial_or_page(request, "challenges/challenge_detail.html", "responses"),
        {
            "challenge": challenge,
            "page": page,
            "cards": cards,
            "in_arena": partial(response_selectors.in_arena_count, challenge=challenge),
            "sort": sort,
            "sorts": [
                (key, label) for key, (label, _) in response_selectors.RESPONSE_SORTS.items()
            ],
            "meta": meta(
                f"{challenge.title} — every model's response",
                f"{challenge.title}: {challenge.description or challenge.prompt}",
                ("Home", "/"),
                ("Challenges", reverse("challenges:list")),
                (challenge.title, ""),
            ),
        },
    )
