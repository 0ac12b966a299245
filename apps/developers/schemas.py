"""The public shapes of Rival's data, and the one place rows become them.

The JSON API, the MCP server and the feeds all serialise through these functions, so a field
means the same thing wherever a developer meets it.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.conf import settings
from pydantic import BaseModel, Field, create_model


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def _money(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


class CreatorRef(BaseModel):
    slug: str
    name: str


class CategoryRef(BaseModel):
    slug: str
    name: str


class ModelRef(BaseModel):
    slug: str
    name: str
    creator: CreatorRef


class ChallengeRef(BaseModel):
    slug: str
    title: str
    category: CategoryRef | None


class Rating(BaseModel):
    rank: int | None = Field(
        description="1 + the number of models whose interval lies above; null while provisional."
    )
    rating: float = Field(description="Bradley-Terry rating on the Elo scale (1000 centre).")
    lower: float = Field(description="Lower end of the 95% bootstrap interval.")
    upper: float = Field(description="Upper end of the 95% bootstrap interval.")
    interval: float = Field(description="Half the interval's width: rating ± interval.")
    votes: int
    win_rate: float
    provisional: bool = Field(description="Fewer votes than the provisional threshold.")


class Model(BaseModel):
    slug: str
    name: str
    url: str
    creator: CreatorRef
    description: str
    release_date: date | None
    size_class: str | None
    parameters_total: int | None
    parameters_active: int | None
    parameters_note: str
    context_length: int | None
    price_input_per_mtok: float | None = Field(description="USD per million input tokens.")
    price_output_per_mtok: float | None = Field(description="USD per million output tokens.")
    capabilities: list[str]
    modalities: list[str]
    status: str
    retired_on: date | None
    retirement_reason: str
    updated_at: datetime
    rating: Rating | None = Field(description="Overall arena rating; null when unrated.")


class CreatorModel(BaseModel):
    slug: str
    name: str


class Creator(BaseModel):
    slug: str
    name: str
    url: str
    website: str
    description: str
    listed_models: int
    retired_models: int
    models: list[CreatorModel] = Field(description="Listed models, newest first.")


class Challenge(BaseModel):
    slug: str
    title: str
    url: str
    prompt: str
    description: str
    category: CategoryRef | None
    output_type: str
    difficulty: str | None
    response_count: int
    created_at: datetime
    updated_at: datetime


class Reproducibility(BaseModel):
    prompt: str = Field(description="The prompt exactly as sent.")
    gateway: str | None
    gateway_model_id: str | None
    temperature: float | None
    top_p: float | None
    max_tokens: int | None
    system_prompt: str | None
    tokens_in: int | None
    tokens_out: int | None
    latency_ms: int | None
    ttft_ms: int | None = Field(description="Time to first token, when streamed.")
    cost_usd: float | None
    finish_reason: str
    source: str


class Response(BaseModel):
    id: int
    url: str
    model: ModelRef
    challenge: ChallengeRef
    output_type: str
    content: str = Field(description="The raw output as the model wrote it: untrusted.")
    image_url: str | None
    collected_at: datetime
    added_at: datetime = Field(description="When the response entered Rival.")
    reproducibility: Reproducibility


class Standing(BaseModel):
    """A model's place on one flavour of the board: plain or style-controlled."""

    rank: int | None = Field(description="null while provisional.")
    tier: int | None = Field(
        description="Models whose intervals overlap the tier leader's share its tier."
    )
    rating: float
    lower: float
    upper: float
    interval: float = Field(description="Half the interval's width: rating ± interval.")


class LeaderboardRow(Rating):
    model: ModelRef
    tier: int | None = Field(description="The headline tier (plain or style-controlled).")
    plain: Standing = Field(description="Rank, tier and rating from the plain fit.")
    style_controlled: Standing | None = Field(
        description="The same with style control (answer length and Markdown held equal); "
        "null when the snapshot has no style-controlled fit for this model."
    )
    rival_score: float | None = Field(
        description="1000 × win rate × consistency × credibility (docs/ratings.md)."
    )
    consistency: float | None = Field(description="1 − 2 × spread of per-challenge win rates.")
    flip_votes: int | None = Field(
        description="Votes whose removal would put the next ranked model above this one: how "
        "robust the rank is. null for the last ranked row and for provisional models."
    )
    flip_exact: bool = Field(description="flip_votes was checked by refitting.")


class StyleCoefficient(BaseModel):
    feature: str
    estimate: float = Field(description="Log-odds per standard deviation of the feature.")
    lower: float
    upper: float


class Leaderboard(BaseModel):
    category: CategoryRef | None = Field(description="null: the overall leaderboard.")
    voters: Literal["all", "verified"] = Field(
        description="Whose votes: everyone's, or verified voters' only (overall only)."
    )
    style_control: bool = Field(
        description="Whether the headline rank, tier, rating and interval of each row are "
        "the style-controlled ones (rows ordered by them); both are in every row."
    )
    sort: Literal["rank", "score"]
    snapshot_id: int | None
    computed_at: datetime | None
    style_coefficients: list[StyleCoefficient] = Field(
        description="How much each style feature sways votes, from the style-controlled fit."
    )
    rows: list[LeaderboardRow]


class Snapshot(BaseModel):
    id: int
    category: CategoryRef | None
    voters: str = Field(description="all or verified.")
    computed_at: datetime
    votes_used: int
    excluded_votes: int
    rounds: int


class SnapshotDetail(Snapshot):
    style_coefficients: list[StyleCoefficient]
    rows: list[LeaderboardRow]


class CompareSide(BaseModel):
    model: str = Field(description="The model's slug.")
    response_url: str | None
    length: int | None = Field(description="Words for text and code, characters for markup.")
    output_tokens: int | None
    latency_ms: int | None
    cost_usd: float | None
    best: list[str] = Field(description="Metrics on which this side is the single best.")


class CompareChallenge(BaseModel):
    challenge: ChallengeRef
    output_type: str
    sides: list[CompareSide]


class HeadToHead(BaseModel):
    wins: list[int] = Field(description="Counted wins of each model, in the order asked.")
    ties: int
    both_bad: int


class RatedModelRef(ModelRef):
    rating: Rating | None


class Comparison(BaseModel):
    models: list[RatedModelRef]
    shared_challenges: int
    partial_challenges: int = Field(description="Answered by some but not all of the models.")
    head_to_head: HeadToHead | None = Field(description="Two models only.")
    challenges: list[CompareChallenge]


def _page(item):
    return create_model(
        f"{item.__name__}Page",
        __base__=BaseModel,
        items=(list[item], ...),
        next_cursor=(str | None, Field(description="Pass as ?cursor= for the next page.")),
        next=(str | None, Field(description="The next page's URL; null on the last page.")),
    )


ModelPage = _page(Model)
CreatorPage = _page(Creator)
ChallengePage = _page(Challenge)
ResponsePage = _page(Response)
SnapshotPage = _page(Snapshot)


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict] | None = None


# --- From rows ------------------------------------------------------------------------------


def creator_ref(provider) -> CreatorRef:
    return CreatorRef(slug=provider.slug, name=provider.name)


def category_ref(category) -> CategoryRef | None:
    return None if category is None else CategoryRef(slug=category.slug, name=category.name)


def model_ref(model) -> ModelRef:
    return ModelRef(slug=model.slug, name=model.name, creator=creator_ref(model.provider))


def rated_model_ref(model, row) -> RatedModelRef:
    return RatedModelRef(**model_ref(model).model_dump(), rating=rating(row))


def _bounds(rating_: float, lower: float, upper: float) -> dict:
    """A rating with its 95% interval, as every rating field shows them."""
    return {
        "rating": round(rating_, 1),
        "lower": round(lower, 1),
        "upper": round(upper, 1),
        "interval": round((upper - lower) / 2, 1),
    }


def rating(row) -> Rating | None:
    """From any row with a LeaderboardRow's rating fields (rank, rating, lower, upper, votes,
    win_rate, is_provisional)."""
    if row is None:
        return None
    return Rating(
        rank=row.rank,
        **_bounds(row.rating, row.lower, row.upper),
        votes=row.votes,
        win_rate=round(row.win_rate, 4),
        provisional=row.is_provisional,
    )


def model(m, rating_row, *, capabilities: list[str], modalities: list[str]) -> Model:
    """`m` with its provider loaded; `rating_row` its overall rating (None: unrated), with
    the fields `rating` reads; its capabilities' and modalities' slugs."""
    return Model(
        slug=m.slug,
        name=m.name,
        url=absolute(m.get_absolute_url()),
        creator=creator_ref(m.provider),
        description=m.description,
        release_date=m.release_date,
        size_class=m.size_class or None,
        parameters_total=m.parameters_total,
        parameters_active=m.parameters_active,
        parameters_note=m.parameters_note,
        context_length=m.context_length,
        price_input_per_mtok=_money(m.price_input_per_mtok),
        price_output_per_mtok=_money(m.price_output_per_mtok),
        capabilities=capabilities,
        modalities=modalities,
        status=m.status,
        retired_on=m.retired_on,
        retirement_reason=m.retirement_reason,
        updated_at=m.updated_at,
        rating=rating(rating_row),
    )


def creator(p) -> Creator:
    """`p` from catalog.selectors.creators (counts annotated, listed models prefetched)."""
    return Creator(
        slug=p.slug,
        name=p.name,
        url=absolute(p.get_absolute_url()),
        website=p.website,
        description=p.description,
        listed_models=p.listed_count,
        retired_models=p.retired_count,
        models=[CreatorModel(slug=m.slug, name=m.name) for m in p.listed_models],
    )


def challenge(c) -> Challenge:
    return Challenge(
        slug=c.slug,
        title=c.title,
        url=absolute(c.get_absolute_url()),
        prompt=c.prompt,
        description=c.description,
        category=category_ref(c.category),
        output_type=c.output_type,
        difficulty=c.difficulty or None,
        response_count=c.response_count,
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


def challenge_ref(c) -> ChallengeRef:
    return ChallengeRef(slug=c.slug, title=c.title, category=category_ref(c.category))


def _number(value, kind):
    """A recorded setting as a number, or None when absent or not a number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return kind(value)


def reproducibility(r) -> Reproducibility:
    sent = r.settings if isinstance(r.settings, dict) else {}
    system_prompt = sent.get("system_prompt")
    return Reproducibility(
        prompt=r.prompt,
        gateway=str(sent["gateway"]) if sent.get("gateway") else None,
        gateway_model_id=str(sent.get("model_id") or r.model.gateway_model_id) or None,
        temperature=_number(sent.get("temperature"), float),
        top_p=_number(sent.get("top_p"), float),
        max_tokens=_number(sent.get("max_tokens"), int),
        system_prompt=system_prompt if isinstance(system_prompt, str) else None,
        tokens_in=r.tokens_in,
        tokens_out=r.tokens_out,
        latency_ms=r.latency_ms,
        ttft_ms=r.ttft_ms,
        cost_usd=_money(r.cost_usd),
        finish_reason=r.finish_reason,
        source=r.source,
    )


def response(r) -> Response:
    """`r` from responses.selectors.response_records (model, creator, challenge loaded)."""
    return Response(
        id=r.pk,
        url=absolute(r.get_absolute_url()),
        model=model_ref(r.model),
        challenge=challenge_ref(r.challenge),
        output_type=r.output_type,
        content=r.content,
        image_url=absolute(r.image.url) if r.image else None,
        collected_at=r.collected_at,
        added_at=r.created_at,
        reproducibility=reproducibility(r),
    )


# The leaderboard's rows are built as plain dicts in their schema's field order, not as
# models: 300 rows of five nested models each were most of the endpoint's time, and the API
# renders these dicts as they are (api.py, `_rendered`); tests check them against the schema.


def _standing(rank, tier, rating_, lower, upper) -> dict:
    """A Standing."""
    return {"rank": rank, "tier": tier, **_bounds(rating_, lower, upper)}


def _maybe(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def leaderboard_row(shown) -> dict:
    """A LeaderboardRow from `shown`: a row of resources.ROW_VALUES (model and creator as
    `model__slug`…), or the board's view of one (arena.leaderboard.BoardRow), whose rank,
    tier, rating and bounds are the plain or the style-controlled ones."""
    row = getattr(shown, "row", shown)
    style = None
    if row.style_rating is not None and row.style_lower is not None:
        style = _standing(
            row.style_rank, row.style_tier, row.style_rating, row.style_lower, row.style_upper
        )
    return {
        "rank": shown.rank,
        **_bounds(shown.rating, shown.lower, shown.upper),
        "votes": row.votes,
        "win_rate": round(row.win_rate, 4),
        "provisional": row.is_provisional,
        "model": {
            "slug": row.model__slug,
            "name": row.model__name,
            "creator": {"slug": row.model__provider__slug, "name": row.model__provider__name},
        },
        "tier": shown.tier,
        "plain": _standing(row.rank, row.tier, row.rating, row.lower, row.upper),
        "style_controlled": style,
        "rival_score": _maybe(row.rival_score, 1),
        "consistency": _maybe(row.consistency, 4),
        "flip_votes": row.flip_votes,
        "flip_exact": row.flip_exact,
    }


def style_coefficients(s) -> list[dict]:
    """A snapshot's stored coefficients as StyleCoefficients; features without spread (no
    estimate) left out."""
    return [
        {
            "feature": c["feature"],
            "estimate": round(c["estimate"], 4),
            "lower": round(c["lower"], 4),
            "upper": round(c["upper"], 4),
        }
        for c in (s.style_coefficients if s is not None else None) or []
        if c.get("estimate") is not None and c.get("lower") is not None
    ]


def snapshot(s) -> Snapshot:
    return Snapshot(
        id=s.pk,
        category=category_ref(s.category),
        voters=s.voters,
        computed_at=s.computed_at,
        votes_used=s.votes_used,
        excluded_votes=s.excluded_votes,
        rounds=s.rounds,
    )
