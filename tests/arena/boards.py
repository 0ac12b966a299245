"""A leaderboard snapshot of many models, written directly as rows: for page-size and
layout tests, where running the real recompute on that many models would add nothing."""

from django.utils import timezone

from apps.arena.models import LeaderboardRow, LeaderboardSnapshot
from apps.catalog.models import AIModel
from tests.factories import ProviderFactory, demo_gateway


def board_snapshot(n_models: int = 300, n_creators: int = 30, provisional: int = 5) -> list:
    """`n_models` models from `n_creators` creators, the last `provisional` of them
    provisional, with three models per rank and ten per tier."""
    creators = [ProviderFactory(name=f"Creator number {i}") for i in range(n_creators)]
    models = AIModel.objects.bulk_create(
        AIModel(
            slug=f"board-model-{i}",
            name=f"{creators[i % n_creators].name}: Model {i} Instruct Preview",
            provider=creators[i % n_creators],
            gateway=demo_gateway(),
            gateway_model_id=f"m{i}",
        )
        for i in range(n_models)
    )
    snapshot = LeaderboardSnapshot.objects.create(
        computed_at=timezone.now(),
        votes_used=1_000_000,
        excluded_votes=1234,
        rounds=1000,
        seed=1,
        min_votes=300,
        win_matrix={
            "models": [m.pk for m in models[:20]],
            "rates": [[None if r == c else 0.55 for c in range(20)] for r in range(20)],
        },
        style_coefficients=[
            {"feature": name, "estimate": value, "lower": value - 0.02, "upper": value + 0.02}
            for name, value in (("length", 0.25), ("headers", 0.03), ("lists", 0.06), ("bold", 0.1))
        ],
    )
    ranked = n_models - provisional
    LeaderboardRow.objects.bulk_create(
        LeaderboardRow(
            snapshot=snapshot,
            model=m,
            rank=1 + i // 3 if i < ranked else None,
            tier=1 + i // 10 if i < ranked else None,
            rating=1300 - i * 2.1,
            lower=1290 - i * 2.1 - (40 if i >= ranked else 0),
            upper=1310 - i * 2.1 + (40 if i >= ranked else 0),
            style_rating=1299 - i * 2.1 + (15 if i % 7 == 0 else 0),
            style_lower=1285 - i * 2.1,
            style_upper=1312 - i * 2.1 + (30 if i % 7 == 0 else 0),
            style_rank=(1 + i // 3 - (2 if i % 7 == 0 and i > 6 else 0)) if i < ranked else None,
            style_tier=1 + i // 10 if i < ranked else None,
            rival_score=900 - i * 3 + (i % 5) * 7,
            consistency=0.8,
            votes=6500 if i < ranked else 120,
            win_rate=0.5,
            is_provisional=i >= ranked,
            flip_votes=12 + i if i < ranked - 1 else None,
            flip_exact=i < 10,
        )
        for i, m in enumerate(models)
    )
    return models
