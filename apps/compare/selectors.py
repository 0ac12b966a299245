"""Reads for the compare pages.

Every function here runs a fixed number of queries whatever the number of shared challenges.
Ratings and head-to-head records come only through `apps.arena.selectors`.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

from django.db import connection
from django.db.models import Q
from django.urls import reverse

from apps.catalog.models import AIModel
from apps.challenges.models import Category as ChallengeCategory
from apps.challenges.models import Challenge, OutputType
from apps.compare.metrics import METRICS, Cell, cells, response_metrics
from apps.responses.models import Response
from rival.cacheversion import per_content_version
from rival.links import link, links_to
from rival.sqlrows import Columns, column, table

MIN_MODELS = 2
MAX_MODELS = 4
PAIR_SEPARATOR = "-vs-"
# Challenges rendered per lazy-loaded batch; the first batch is part of the page itself.
BATCH_SIZE = 6


class CompareInputError(Exception):
    """A comparison that cannot be drawn, for a reason the visitor can fix."""


# --- Addresses --------------------------------------------------------------------------------


def pair_slug(first_slug: str, second_slug: str) -> str:
    """The canonical `<a>-vs-<b>` segment: the two slugs in alphabetical order."""
    return PAIR_SEPARATOR.join(sorted([first_slug, second_slug]))


def compare_url(slugs: list[str]) -> str:
    if len(slugs) == 2:
        return link("compare:pair", pair_slug(*slugs))
    return reverse("compare:index") + "?models=" + ",".join(slugs)


def pair_challenge_url(slugs: list[str], challenge_slug: str) -> str:
    return link("compare:challenge", pair_slug(*slugs), challenge_slug)


# --- Which models ---------------------------------------------------------------------------


@cache
def _models_sql(vendor: str):
    """Every column of the models and their creators (what `with_provider()` loads), composed
    once per process: the ORM spent ~1 ms compiling this lookup on every compare page."""
    provider = AIModel._meta.get_field("provider").related_model
    models, creators = Columns.of(AIModel, "m"), Columns.of(provider, "p")
    sql = (
        f"SELECT {models.select}, {creators.select} FROM {table(AIModel)} m"
        f" JOIN {table(provider)} p ON m.{column(AIModel, 'provider')} = p.{column(provider, 'pk')}"
        f" WHERE m.{column(AIModel, 'slug')} IN "
    )
    return sql, models, creators


def models_by_slug(slugs) -> dict[str, AIModel]:
    """The models with these slugs, each with its creator loaded: one query."""
    slugs = list(set(slugs))
    if not slugs:
        return {}
    sql, models, creators = _models_sql(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql}({_placeholders(slugs)})", slugs)
        rows = cursor.fetchall()
    split = len(models)
    found = {}
    for row in rows:
        model = models.build(row[:split])
        model.provider = creators.build(row[split:])
        found[model.slug] = model
    return found


def pair_models(segment: str) -> list[AIModel] | None:
    """The two models named by `<a>-vs-<b>`, in the order written; None if either is unknown.

    A slug may itself contain "-vs-", so every split is tried against one lookup.
    Raises CompareInputError when both sides name the same model.
    """
    splits = []
    start = 0
    while (at := segment.find(PAIR_SEPARATOR, start)) != -1:
        splits.append((segment[:at], segment[at + len(PAIR_SEPARATOR) :]))
        start = at + 1
    splits = [(a, b) for a, b in splits if a and b]
    if not splits:
        return None
    found = models_by_slug({slug for split in splits for slug in split})
    for a, b in splits:
        if a in found and b in found:
            if a == b:
                raise CompareInputError(
                    f"You asked to compare {found[a].name} with itself. Pick a second model."
                )
            return [found[a], found[b]]
    return None


def parse_model_list(raw: str) -> list[str]:
    """Slugs from `a,b,c`, in order; raises CompareInputError for repeats or too many."""
    slugs = [slug.strip() for slug in raw.split(",") if slug.strip()]
    if len(set(slugs)) != len(slugs):
        raise CompareInputError("The same model is listed twice. Each model can appear once.")
    if len(slugs) > MAX_MODELS:
        raise CompareInputError(
            f"You listed {len(slugs)} models; a comparison shows at most {MAX_MODELS}."
        )
    if len(slugs) < MIN_MODELS:
        raise CompareInputError("Pick at least two models to compare.")
    return slugs


def models_in_order(slugs: list[str]) -> list[AIModel] | None:
    """The models for these slugs in the order given, or None if any is unknown."""
    found = models_by_slug(slugs)
    if len(found) != len(set(slugs)):
        return None
    return [found[slug] for slug in slugs]


def search_models(query: str, *, exclude: list[str] = (), limit: int = 10) -> list[AIModel]:
    query = query.strip()
    if not query:
        return []
    matches = (
        AIModel.objects.listed()
        .with_provider()
        .filter(
            Q(name__icontains=query)
            | Q(slug__icontains=query)
            | Q(provider__name__icontains=query)
            | Q(gateway_model_id__icontains=query)
        )
        .exclude(slug__in=list(exclude))
        .only("id", "slug", "name", "release_date", "provider__name", "provider__slug")
        .order_by("-featured", "name")
    )
    return list(matches[:limit])


# --- What they answered ---------------------------------------------------------------------


@dataclass
class ChallengeEntry:
    id: int
    slug: str
    title: str
    output_type: str
    category_slug: str | None
    category_name: str | None
    answered_by: list[int] = field(default_factory=list)

    @property
    def output_type_label(self) -> str:
        return OutputType(self.output_type).label


@dataclass
class Category:
    slug: str
    name: str
    count: int


@dataclass(frozen=True)
class AnsweredEntry:
    """A challenge only some of the compared models answered, as one of them links to it."""

    url: str
    title: str
    category_name: str | None


@dataclass
class Overview:
    models: list[AIModel]
    shared: list[ChallengeEntry]
    partial: list[ChallengeEntry]
    categories: list[Category]

    def shared_in(self, category: str | None) -> list[ChallengeEntry]:
        if not category:
            return self.shared
        return [entry for entry in self.shared if entry.category_slug == category]

    def partial_by_model(self) -> list[tuple[AIModel, list[AnsweredEntry]]]:
        """For each model, the challenges it answered that not every other model did, each
        with the link to that model's response (made here: a page lists a hundred)."""
        by_model = []
        for model in self.models:
            url_of = links_to("responses:detail", model.slug)
            answered = [
                AnsweredEntry(url_of(entry.slug), entry.title, entry.category_name)
                for entry in self.partial
                if model.id in entry.answered_by
            ]
            by_model.append((model, answered))
        return by_model


def overview(models: list[AIModel]) -> Overview:
    """Which published challenges each model answered: one query of small rows, kept in the
    cache per content version (rival/cacheversion.py), which every response publish, retire
    or challenge edit changes."""
    shared, partial, categories = per_content_version(
        f"compare:overview:{','.join(str(m.id) for m in models)}",
        lambda: _overview_parts(models),
    )
    return Overview(models=models, shared=shared, partial=partial, categories=categories)


@cache
def _visible_responses_sql(vendor: str, joins: str = "") -> tuple[str, list]:
    """`FROM … WHERE` of `Response.objects.visible()` joined to its challenge, with its
    parameters; composed once per process from the models' tables and columns (the ORM spent
    longer compiling the compare queries than the database spends answering them). `vendor`
    keys the cache: the quoting is the connection's."""
    r, c = Response, Challenge
    sql = (
        f" FROM {table(r)} r JOIN {table(c)} c ON r.{column(r, 'challenge')} = c.{column(c, 'id')}"
        f"{joins} WHERE r.{column(r, 'is_published')} = %s AND r.{column(r, 'public_from')}"
        f" IS NOT NULL AND c.{column(c, 'is_published')} = %s AND c.{column(c, 'arena_only')} = %s"
    )
    return sql, [True, True, False]


def _placeholders(values) -> str:
    return ", ".join(["%s"] * len(values))


@cache
def _overview_sql(vendor: str) -> tuple[str, list]:
    r, c, k = Response, Challenge, ChallengeCategory
    columns = [f"r.{column(r, n)}" for n in ("challenge", "model")]
    columns += [f"c.{column(c, n)}" for n in ("slug", "title", "output_type")]
    columns += [f"k.{column(k, n)}" for n in ("slug", "name", "position")]
    category = f" LEFT JOIN {table(k)} k ON c.{column(c, 'category')} = k.{column(k, 'id')}"
    where, params = _visible_responses_sql(vendor, category)
    sql = f"SELECT {', '.join(columns)}{where} AND r.{column(r, 'model')} IN "
    return sql, params


def _overview_parts(models: list[AIModel]):
    ids = [m.id for m in models]
    sql, params = _overview_sql(connection.vendor)
    # Ordered as the ORM's `.order_by("challenge__title", "challenge_id")` was.
    sql += f"({_placeholders(ids)}) ORDER BY 4, 1"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *ids])
        rows = cursor.fetchall()
    entries: dict[int, ChallengeEntry] = {}
    positions: dict[str, int] = {}
    for cid, model_id, slug, title, output_type, cat_slug, cat_name, cat_pos in rows:
        entry = entries.get(cid)
        if entry is None:
            entry = entries[cid] = ChallengeEntry(cid, slug, title, output_type, cat_slug, cat_name)
            if cat_slug:
                positions[cat_slug] = cat_pos
        entry.answered_by.append(model_id)
    order = {model.id: i for i, model in enumerate(models)}
    everyone = set(order)
    shared, partial = [], []
    for entry in entries.values():
        entry.answered_by.sort(key=order.__getitem__)
        (shared if set(entry.answered_by) == everyone else partial).append(entry)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for entry in shared:
        if entry.category_slug:
            counts[(entry.category_slug, entry.category_name)] += 1
    categories = [
        Category(slug, name, n)
        for (slug, name), n in sorted(counts.items(), key=lambda kv: (positions[kv[0][0]], kv[0]))
    ]
    return shared, partial, categories


@dataclass
class Side:
    model: AIModel
    response: Response | None
    metrics: list[tuple[str, Cell]] = field(default_factory=list)


@dataclass
class Row:
    entry: ChallengeEntry
    challenge: object
    sides: list[Side]
    url: str = ""


# What a row shows of a response (components/response_output.html and the metrics); the
# entry already has the challenge's category.
ROW_RESPONSE_FIELDS = ("id", "model_id", "challenge_id", "output_type", "content")
ROW_RESPONSE_FIELDS += ("rendered_html", "rendered_hash", "image", "image_width", "image_height")
ROW_RESPONSE_FIELDS += ("image_thumb", "audio", "audio_duration_ms", "waveform", "tokens_out")
ROW_RESPONSE_FIELDS += ("latency_ms", "cost_usd")


@cache
def _rows_sql(vendor: str):
    """The rows' query (ROW_RESPONSE_FIELDS and the challenge's title and prompt), with the
    columns that turn its plain values into model instances: (sql, params, the responses'
    columns, the challenges')."""
    wanted = set(ROW_RESPONSE_FIELDS)
    r_fields = [f.attname for f in Response._meta.concrete_fields if wanted & {f.attname, f.name}]
    responses = Columns.of(Response, "r", r_fields)
    challenges = Columns.of(Challenge, "c", ("id", "title", "prompt"))
    where, params = _visible_responses_sql(vendor)
    sql = (
        f"SELECT {responses.select}, {challenges.select}{where}"
        f" AND r.{column(Response, 'model')} IN (<models>)"
        f" AND r.{column(Response, 'challenge')} IN (<challenges>)"
        f" ORDER BY r.{column(Response, 'collected_at')} DESC"
    )
    return sql, params, responses, challenges


def _row_responses(models: list[AIModel], entries: list[ChallengeEntry]) -> list[Response]:
    """The visible responses of `models` to `entries`, newest first, each with its challenge's
    title and prompt loaded: one query of plain rows."""
    if not entries:
        return []
    sql, params, responses_read, challenges_read = _rows_sql(connection.vendor)
    model_ids, challenge_ids = [m.id for m in models], [e.id for e in entries]
    sql = sql.replace("<models>", _placeholders(model_ids), 1)
    sql = sql.replace("<challenges>", _placeholders(challenge_ids), 1)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *model_ids, *challenge_ids])
        rows = cursor.fetchall()
    split = len(responses_read)
    responses = []
    challenges: dict[int, Challenge] = {}
    for row in rows:
        response = responses_read.build(row[:split])
        challenge = challenges.get(row[split])
        if challenge is None:
            challenge = challenges[row[split]] = challenges_read.build(row[split:])
        response.challenge = challenge
        responses.append(response)
    return responses


def rows_for(models: list[AIModel], entries: list[ChallengeEntry]) -> list[Row]:
    """The responses of `models` to `entries`, side by side with marked metrics: one query."""
    responses = _row_responses(models, entries)
    by_model = {m.id: m for m in models}
    found: dict[tuple[int, int], Response] = {}
    for response in responses:
        response.model = by_model[response.model_id]
        found[(response.challenge_id, response.model_id)] = response
    rows = []
    for entry in entries:
        sides = [Side(m, found.get((entry.id, m.id))) for m in models]
        present = [s for s in sides if s.response is not None]
        if not present:
            continue
        values = [response_metrics(s.response) for s in present]
        for index, (label, prefer, notes) in enumerate(METRICS):
            if all(v[index][0] is None for v in values):
                continue  # e.g. imported answers without token counts: say nothing
            marked = cells(
                [v[index][0] for v in values],
                [v[index][1] for v in values],
                prefer=prefer,
                notes=notes,
            )
            for side, cell in zip(present, marked, strict=True):
                side.metrics.append((label, cell))
        rows.append(Row(entry=entry, challenge=present[0].response.challenge, sides=sides))
    return rows


def pair_on_challenge(models: list[AIModel], challenge_slug: str):
    """One challenge's row for these models, with the previous and next shared challenges.

    None when the challenge is unknown, unpublished, or answered by neither model.
    """
    found = overview(models)
    entry = next((e for e in found.shared + found.partial if e.slug == challenge_slug), None)
    if entry is None:
        return None
    rows = rows_for(models, [entry])
    if not rows:
        return None
    neighbours = (None, None)
    if entry in found.shared:
        at = found.shared.index(entry)
        before = found.shared[at - 1] if at > 0 else None
        after = found.shared[at + 1] if at + 1 < len(found.shared) else None
        neighbours = (before, after)
    return rows[0], neighbours
