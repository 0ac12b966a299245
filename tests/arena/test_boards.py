"""A board's tally rows merged per pair of answers give the same board as the rows as read."""

import numpy as np
import pytest

from apps.arena import boards
from apps.arena.services.leaderboard import _rows_of, _Styles


def tally(seed: int = 7, n_models: int = 12, rows: int = 4_000) -> boards.AggregatedVotes:
    """Tally rows of one category: each model answers each of three challenges once
    (response id = 1000 + challenge × 100 + model); pairs meet shown either way round,
    verified or not, so most pairs of answers have several rows."""
    rng = np.random.default_rng(seed)
    challenge = rng.integers(0, 3, rows)
    model_a = rng.integers(0, n_models, rows)
    model_b = (model_a + rng.integers(1, n_models, rows)) % n_models
    strength = np.linspace(-1, 1, n_models)
    p = 1 / (1 + np.exp(strength[model_b] - strength[model_a]))
    n = rng.integers(1, 40, rows)
    ties = rng.binomial(n, 0.1)
    wins_a = rng.binomial(n - ties, p)
    return boards.AggregatedVotes(
        category=np.full(rows, 5),
        challenge=challenge + 50,
        model_a=model_a + 200,
        model_b=model_b + 200,
        response_a=1000 + challenge * 100 + model_a,
        response_b=1000 + challenge * 100 + model_b,
        verified=rng.integers(0, 2, rows),
        wins_a=wins_a,
        wins_b=n - ties - wins_a,
        ties=ties,
    )


def styles_of(votes: boards.AggregatedVotes, seed: int = 3) -> _Styles:
    """Random style counts for all but a few answers (those have none stored)."""
    ids = np.unique(np.concatenate([votes.response_a, votes.response_b]))[4:]
    counts = np.random.default_rng(seed).integers(0, 400, (ids.size, 4)).astype(float)
    return _Styles(ids, np.vstack([counts, np.zeros((1, 4))]))


def per_model_wins(votes):
    return np.bincount(votes.model_a, votes.wins_a, 300) + np.bincount(
        votes.model_b, votes.wins_b, 300
    )


def per_model_ties(votes):
    return np.bincount(votes.model_a, votes.ties, 300) + np.bincount(votes.model_b, votes.ties, 300)


def per_challenge_votes(votes):
    return np.bincount(votes.challenge, votes.wins_a + votes.wins_b + votes.ties, 60)


def test_merged_rows_are_one_per_pair_of_answers_with_every_vote():
    votes = tally()

    merged = votes.merged()

    assert merged.wins_a.size < votes.wins_a.size / 3
    pairs = list(zip(merged.response_a.tolist(), merged.response_b.tolist(), strict=True))
    assert len(set(pairs)) == len(pairs) and all(a < b for a, b in pairs)
    # Each model's wins and ties, and each challenge's votes, are unchanged.
    for per in (per_model_wins, per_model_ties, per_challenge_votes):
        assert np.array_equal(per(votes), per(merged))
    # A pair's answers keep their models and challenge.
    assert np.array_equal(merged.model_a, (merged.response_a - 1000) % 100 + 200)
    assert np.array_equal(merged.challenge, (merged.response_a - 1000) // 100 + 50)


def test_answers_with_ids_beyond_31_bits_merge_alike():
    votes = tally(rows=500)
    far = 2**40
    wide = boards.AggregatedVotes(
        **{
            **{name: getattr(votes, name) for name in boards.AggregatedVotes.__annotations__},
            "response_a": votes.response_a + far,
            "response_b": votes.response_b + far,
        }
    )

    merged, merged_wide = votes.merged(), wide.merged()

    assert np.array_equal(merged_wide.response_a, merged.response_a + far)
    for name in ("model_a", "model_b", "challenge", "wins_a", "wins_b", "ties", "verified"):
        assert np.array_equal(getattr(merged_wide, name), getattr(merged, name))


def test_a_merged_row_is_verified_only_when_all_of_its_rows_are():
    votes = tally(rows=60)
    votes = votes.where(votes.response_a != votes.response_b)
    merged = votes.merged()
    low = np.minimum(votes.response_a, votes.response_b)
    high = np.maximum(votes.response_a, votes.response_b)
    for a, b, verified in zip(merged.response_a, merged.response_b, merged.verified, strict=True):
        rows = (low == a) & (high == b)
        assert verified == votes.verified[rows].all()


@pytest.mark.parametrize("seed", [7, 8])
def test_a_board_of_merged_rows_is_the_same_board(seed):
    votes = tally(seed)
    styles = styles_of(votes)
    arguments = {"rounds": 200, "seed": 3, "min_votes": 50}

    as_read = boards.compute(_rows_of(votes, styles), **arguments)
    merged = boards.compute(_rows_of(votes.merged(), styles), **arguments)

    assert np.array_equal(as_read.model_ids, merged.model_ids)
    # Plain ratings, intervals and flip counts come from the model pairs' counts: identical.
    for name in ("rating", "lower", "upper", "rank", "votes"):
        assert np.array_equal(getattr(as_read.result, name), getattr(merged.result, name))
    assert as_read.flip_of == merged.flip_of
    assert np.array_equal(as_read.matrix, merged.matrix, equal_nan=True)
    # Sums over rows in another order: equal to rounding.
    for name in ("rating", "lower", "upper", "coefficient"):
        assert np.allclose(getattr(as_read.style, name), getattr(merged.style, name), atol=1e-8)
    assert np.allclose(as_read.score.score, merged.score.score, atol=1e-9, equal_nan=True)
    assert np.array_equal(as_read.style_rank, merged.style_rank)
    assert np.array_equal(as_read.tier, merged.tier)
