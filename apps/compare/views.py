from functools import partial
from math import ceil
from urllib.parse import urlencode

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, push_url

from apps.arena import selectors as arena
from apps.compare import metrics, pairs, selectors
from apps.compare.diff import response_diff
from apps.compare.picker import read_picker
from apps.compare.selectors import BATCH_SIZE, CompareInputError
from rival.links import link
from rival.web.pagecache import public_page
from rival.web.seo import meta


def _problem(request, message: str):
    """A comparison that cannot be drawn: say why, and offer ways on. 400, never a 500."""
    context = {
        "message": message,
        "popular": pairs.popular_pairs(),
        "meta": meta(
            "Cannot compare these models",
            message,
            ("Compare", reverse("compare:index")),
            ("Cannot compare", ""),
            noindex=True,
        ),
    }
    return render(request, "compare/problem.html", context, status=400)


def _positive_int(value, default: int = 1) -> int:
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return default


@require_safe
@vary_on_headers("HX-Request")
def index(request):
    """The picker; with `?models=a,b,c` it is the comparison of three or four models."""
    if "models" in request.GET:
        return _compare_many(request)
    picker = read_picker(request.GET)
    if picker.ready:
        if request.htmx:
            return HttpResponseClientRedirect(picker.comparison_url)
        return redirect(picker.comparison_url)
    context = {
        "picker": picker,
        "results": selectors.search_models(picker.query, exclude=picker.slugs),
    }
    if request.htmx and request.htmx.target == "picker-results":
        return render(request, "compare/index.html#results", context)
    if request.htmx and request.htmx.target == "picker":
        # History gets the picker's state, not the button that changed it (add=…, drop=…).
        return push_url(render(request, "compare/index.html#picker", context), picker.url)
    context |= {
        "meta": meta(
            "Compare AI models side by side",
            "Pick two to four AI models and read their answers to the same challenges side by "
            "side, with specs, cost, speed and arena ratings.",
            ("Compare", ""),
        ),
        "recent": pairs.recent_comparisons(),
        "popular": pairs.popular_pairs(),
        "suggested": pairs.suggested_pairs(),
    }
    return render(request, "compare/index.html", context)


def _compare_many(request):
    try:
        slugs = selectors.parse_model_list(request.GET["models"])
    except CompareInputError as error:
        return _problem(request, str(error))
    models = selectors.models_in_order(slugs)
    if models is None:
        raise Http404("No such model.")
    if len(models) == 2:
        return redirect(selectors.compare_url(slugs), permanent=True)
    return _comparison(request, models)


def _pair_or_response(request, segment: str, url_name: str, *extra_args):
    """(models in canonical order, canonical segment), or the response to send instead:
    404 for an unknown model, 400 for the same model twice, 301 to the canonical order."""
    try:
        models = selectors.pair_models(segment)
    except CompareInputError as error:
        return _problem(request, str(error))
    if models is None:
        raise Http404("No such model.")
    canonical = selectors.pair_slug(*(m.slug for m in models))
    if segment != canonical:
        return _permanent_with_query(request, reverse(url_name, args=[canonical, *extra_args]))
    return sorted(models, key=lambda m: m.slug), canonical


@public_page("category", "page", "batch", htmx_targets=("shared",))
@require_safe
@vary_on_headers("HX-Request")
def pair(request, pair: str):
    resolved = _pair_or_response(request, pair, "compare:pair")
    if not isinstance(resolved, tuple):
        return resolved
    models, _ = resolved
    return _comparison(request, models)


def _permanent_with_query(request, url: str):
    query = request.GET.urlencode()
    return HttpResponseRedirect(f"{url}?{query}" if query else url, status=301)


def _comparison(request, models):
    overview = selectors.overview(models)
    category = request.GET.get("category") or ""
    entries = overview.shared_in(category)
    is_pair = len(models) == 2
    # The columns page lives at /compare/?models=…; its own links must keep that parameter.
    keep = {} if is_pair else {"models": ",".join(m.slug for m in models)}
    # Pages and batches stop at the last real one: a page number is never an amount of work
    # a visitor can choose.
    last_page = max(1, ceil(len(entries) / BATCH_SIZE))
    batch = _positive_int(request.GET.get("batch"), 0) if request.htmx else 0
    if batch > last_page:
        raise Http404("No such batch.")
    if batch:
        start, end = (batch - 1) * BATCH_SIZE, batch * BATCH_SIZE
        context = _batch_context(models, entries, start, end, category, keep)
        return render(request, "compare/compare.html#batch", context)
    page = _positive_int(request.GET.get("page"))
    if page > last_page:
        last = _query(keep, page=last_page if last_page > 1 else None, category=category)
        return redirect(request.path + (last if last != "?" else ""))
    context = _batch_context(models, entries, 0, page * BATCH_SIZE, category, keep)
    context |= {
        "models_key": ",".join(m.slug for m in models),
        "page": page,
        "overview": overview,
        "is_pair": is_pair,
        "category": category,
        "all_href": _query(keep),
        "category_links": [
            (cat, _query(keep, category=cat.slug), cat.slug == category)
            for cat in overview.categories
        ],
    }
    if request.htmx and request.htmx.target == "shared":
        return render(request, "compare/compare.html#shared", context)
    context |= _page_context(request, models, overview, is_pair)
    pairs.record_recent(models)
    return render(request, "compare/compare.html", context)


def _query(keep: dict, **params) -> str:
    return "?" + urlencode({**keep, **{k: v for k, v in params.items() if v}}, safe=",")


def _rows(models, entries) -> list:
    rows = selectors.rows_for(models, entries)
    slugs = [m.slug for m in models]
    for row in rows:
        row.url = (
            selectors.pair_challenge_url(slugs, row.entry.slug)
            if len(models) == 2
            else link("challenges:detail", row.entry.slug)
        )
    return rows


def _batch_context(models, entries, start, end, category, keep):
    following = entries[end : end + 1]
    # Called by the template only when its fragment is not cached.
    context = {"models": models, "rows": partial(_rows, models, entries[start:end]), "more": None}
    if following:
        next_batch = end // BATCH_SIZE + 1
        context["more"] = {
            "href": _query(keep, page=next_batch, category=category) + f"#c-{following[0].slug}",
            "hx_get": _query(keep, batch=next_batch, category=category),
        }
    return context


def _spec_rows(models) -> list:
    return metrics.spec_rows(models, arena.latest_ratings())


def _page_context(request, models, overview, is_pair):
    record = arena.head_to_head(*models) if is_pair else None
    names = " vs ".join(m.short_name for m in models)
    count = len(overview.shared)
    noun = "challenge" if count == 1 else "challenges"
    path = (
        reverse("compare:pair", args=[selectors.pair_slug(*(m.slug for m in models))])
        if is_pair
        else selectors.compare_url(sorted(m.slug for m in models))
    )
    title = f"{names} — {count} {noun} compared"
    description = (
        f"{' and '.join(m.name for m in models)} side by side on {count} shared {noun}: "
        "the outputs themselves, with length, tokens, latency and cost, specs and ratings."
    )
    context = {
        # Called by the template only when its fragment is not cached.
        "specs": partial(_spec_rows, models),
        "record": record if record and record.total else None,
        "heading": names,
        "meta": meta(title, description, ("Compare", reverse("compare:index")), (names, "")),
        "canonical_path": path,
    }
    if not overview.shared:
        context["partners"] = [
            (m, pairs.partners_for(m, exclude=[o.slug for o in models])) for m in models
        ]
    return context


@public_page("diff", htmx_targets=("diff",))
@require_safe
@vary_on_headers("HX-Request")
def pair_challenge(request, pair: str, challenge: str):
    resolved = _pair_or_response(request, pair, "compare:challenge", challenge)
    if not isinstance(resolved, tuple):
        return resolved
    models, canonical = resolved
    found = selectors.pair_on_challenge(models, challenge)
    if found is None:
        raise Http404("Neither model answered this challenge.")
    row, neighbours = found
    a, b = (side.response for side in row.sides)
    diffable = bool(a and b) and all(r.output_type in ("text", "code") for r in (a, b))
    show_diff = diffable and request.GET.get("diff") == "1"
    context = {
        "models": models,
        "row": row,
        "pair_url": reverse("compare:pair", args=[canonical]),
        "pair_slug": canonical,
        "diffable": diffable,
        "diff": response_diff(a, b) if show_diff else None,
    }
    if request.htmx and request.htmx.target == "diff":
        return render(request, "compare/challenge.html#diff", context)
    names = " vs ".join(m.short_name for m in models)
    title = row.challenge.title
    description = (
        f"How {models[0].name} and {models[1].name} answered “{title}”, side by side, "
        "with length, tokens, latency and cost, and a word-level diff."
    )
    context |= {
        "neighbours": neighbours,
        "heading": f"{title}: {names}",
        "meta": meta(
            f"{title}: {names}",
            description,
            ("Compare", reverse("compare:index")),
            (names, context["pair_url"]),
            (title, ""),
            og_type="article",
        ),
        "canonical_path": reverse("compare:challenge", args=[canonical, challenge]),
    }
    return render(request, "compare/challenge.html", context)
