"""Pairs across the whole catalog: popular, suggested, recent, and the sitemap's list."""

from collections import defaultdict
from dataclasses import dataclass

from django.core.cache import cache
from django.urls import reverse

from apps.arena import selectors as arena
from apps.catalog.models import AIModel
from apps.compare.selectors import compare_url, pair_slug
from apps.responses.models import Response

SITEMAP_MIN_SHARED = 3
PAIR_COUNTS_TIMEOUT = 15 * 60
PAIR_COUNTS_KEY = "compare:pair-counts:v2"
SUGGESTIONS_KEY = "compare:suggestions:v1"
RECENT_KEY = "compare:recent:v1"
RECENT_LIMIT = 8


@dataclass(frozen=True)
class PairCount:
    a_slug: str
    a_name: str
    b_slug: str
    b_name: str
    shared: int
    retired: bool
    votes: int = 0

    @property
    def url(self) -> str:
        return reverse("compare:pair", args=[pair_slug(self.a_slug, self.b_slug)])

    @property
    def label(self) -> str:
        return f"{_short(self.a_name)} vs {_short(self.b_name)}"


def _short(name: str) -> str:
    """'Creator: Model' without the creator, as AIModel.short_name."""
    return name.split(": ", 1)[1] if ": " in name else name


def pair_counts() -> list[PairCount]:
    """Every pair of models with a shared challenge, most shared first, with its arena votes.

    Each model's answered challenges become one bitset, and a pair's shared count is the
    popcount of an AND: light queries and integer maths, where a self-join of the
    responses table grows with models² × challenges (seconds at 300 models). Cached because
    the popular list, the suggestions and the sitemap all read it and it changes only as
    responses are collected.
    """
    cached = cache.get(PAIR_COUNTS_KEY)
    if cached is not None:
        return cached
    bit: dict[int, int] = {}
    answered: dict[int, int] = defaultdict(int)
    for model_id, challenge_id in Response.objects.visible().values_list(
        "model_id", "challenge_id"
    ):
        answered[model_id] |= 1 << bit.setdefault(challenge_id, len(bit))
    models = sorted(
        AIModel.objects.filter(id__in=list(answered)).values_list("id", "slug", "name", "status"),
        key=lambda row: row[1],
    )
    votes = arena.pair_vote_counts(set(answered))
    retired = AIModel.Status.RETIRED
    result = []
    for i, (a_id, a_slug, a_name, a_status) in enumerate(models):
        a_mask = answered[a_id]
        for b_id, b_slug, b_name, b_status in models[i + 1 :]:
            if shared := (a_mask & answered[b_id]).bit_count():
                result.append(
                    PairCount(
                        a_slug=a_slug,
                        a_name=a_name,
                        b_slug=b_slug,
                        b_name=b_name,
                        shared=shared,
                        retired=retired in (a_status, b_status),
                        votes=votes.get((min(a_id, b_id), max(a_id, b_id)), 0),
                    )
                )
    result.sort(key=lambda pair: -pair.shared)
    cache.set(PAIR_COUNTS_KEY, result, PAIR_COUNTS_TIMEOUT)
    return result


def popular_pairs(limit: int = 6, *, per_model: int = 2) -> list[PairCount]:
    """The pairs with the most arena votes, then the most shared challenges, with no model in
    more than `per_model` of them so one prolific model does not fill the list."""
    chosen: list[PairCount] = []
    seen: dict[str, int] = defaultdict(int)
    for pair in sorted(pair_counts(), key=lambda pair: (-pair.votes, -pair.shared)):
        if pair.retired or seen[pair.a_slug] >= per_model or seen[pair.b_slug] >= per_model:
            continue
        chosen.append(pair)
        seen[pair.a_slug] += 1
        seen[pair.b_slug] += 1
        if len(chosen) == limit:
            break
    return chosen


def sitemap_pairs() -> list[PairCount]:
    return [pair for pair in pair_counts() if pair.shared >= SITEMAP_MIN_SHARED]


def partners_for(model: AIModel, *, exclude: list[str] = (), limit: int = 4) -> list[PairCount]:
    """The pairs with `model` that share the most challenges: suggestions for an empty page."""
    return [
        pair
        for pair in pair_counts()
        if model.slug in (pair.a_slug, pair.b_slug)
        and not pair.retired
        and not ({pair.a_slug, pair.b_slug} - {model.slug}) & set(exclude)
    ][:limit]


@dataclass(frozen=True)
class Suggestion:
    pair: PairCount
    reason: str


def suggested_pairs(limit: int = 4) -> dict[str, list[Suggestion]]:
    """Pairs worth a look: one creator's generations, one size class, close arena ratings.

    Only pairs that share at least one challenge are suggested, so every link has content.
    Cached like the pair counts it is built from.
    """
    cached = cache.get(f"{SUGGESTIONS_KEY}:{limit}")
    if cached is not None:
        return cached
    counts = {(p.a_slug, p.b_slug): p for p in pair_counts() if not p.retired}
    models = list(
        AIModel.objects.listed()
        .with_provider()
        .only("id", "slug", "name", "release_date", "size_class", "provider__name")
        .order_by("-release_date", "slug")
    )

    def known(a: AIModel, b: AIModel) -> PairCount | None:
        return counts.get(tuple(sorted([a.slug, b.slug])))

    generations: list[Suggestion] = []
    by_provider: dict[str, list[AIModel]] = defaultdict(list)
    for model in models:
        if model.release_date:
            by_provider[model.provider.name].append(model)
    for provider, group in by_provider.items():
        for newer, older in zip(group, group[1:], strict=False):
            if pair := known(newer, older):
                generations.append(Suggestion(pair, f"{provider}: newer and older generation"))
                break
    same_size: list[Suggestion] = []
    seen_sizes: set[str] = set()
    for i, a in enumerate(models):
        if not a.size_class or a.size_class in seen_sizes:
            continue
        for b in models[i + 1 :]:
            if b.size_class == a.size_class and b.provider_id != a.provider_id and known(a, b):
                label = a.get_size_class_display().lower()
                same_size.append(Suggestion(known(a, b), f"both {label} models"))
                seen_sizes.add(a.size_class)
                break
    close: list[Suggestion] = []
    model_ratings = arena.latest_ratings()
    rated = sorted(
        ((r.rating, m.slug, m) for m in models if (r := model_ratings.get(m.id))),
        key=lambda t: t[:2],
    )
    gaps = sorted(
        (
            (abs(r1 - r2), a, b)
            for (r1, _, a), (r2, _, b) in zip(rated, rated[1:], strict=False)
            if known(a, b)
        ),
        key=lambda t: (t[0], t[1].slug, t[2].slug),
    )
    for gap, a, b in gaps[:limit]:
        close.append(Suggestion(known(a, b), f"arena ratings {gap:.0f} points apart"))
    suggestions = {
        "generations": generations[:limit],
        "same_size": same_size[:limit],
        "close_ratings": close,
    }
    cache.set(f"{SUGGESTIONS_KEY}:{limit}", suggestions, PAIR_COUNTS_TIMEOUT)
    return suggestions


@dataclass(frozen=True)
class RecentComparison:
    url: str
    label: str


def record_recent(models: list[AIModel]) -> None:
    """Remember a viewed comparison in the cache; losing a race here only drops one entry."""
    slugs = [m.slug for m in models]
    if len(slugs) == 2:
        models = sorted(models, key=lambda m: m.slug)
    entry = RecentComparison(
        url=compare_url(slugs), label=" vs ".join(m.short_name for m in models)
    )
    recent = [item for item in cache.get(RECENT_KEY, []) if item.url != entry.url]
    cache.set(RECENT_KEY, [entry, *recent][:RECENT_LIMIT], None)


def recent_comparisons() -> list[RecentComparison]:
    return cache.get(RECENT_KEY, [])
