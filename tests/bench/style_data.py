"""Synthetic arena votes with style effects, shared by the ratings and coverage benchmarks.

Known strengths, answers whose style (words, headers, list items, bold spans) varies by
model and challenge, pairs drawn with uneven exposure, and ties likelier between close
models: a tie has probability ``tie_rate · 4p(1 − p)`` and a win ``p − tie/2``, so the
expected score of a vote is exactly p = σ(θa − θb + γ·x), with x the scaled style
differences — the model the fits assume, ties counting half.
"""

from dataclasses import dataclass

import numpy as np

from apps.arena import ratings


@dataclass(frozen=True)
class Simulated:
    strength: np.ndarray  # true θ (natural-log scale)
    gamma: np.ndarray  # true style coefficients per standard deviation
    style: ratings.StyleVotes
    counts: ratings.PairCounts
    challenge: np.ndarray  # per row of `style`


def simulate(
    *,
    n_models: int,
    n_votes: int,
    n_challenges: int = 5,
    gamma=(0.4, 0.05, 0.15, 0.1),
    tie_rate: float = 0.3,
    exposure_spread: float = 1.0,
    seed: int = 0,
) -> Simulated:
    rng = np.random.default_rng(seed)
    strength = rng.normal(0, 1, n_models)
    # Uneven exposure: some models are drawn into battles far more often than others.
    exposure = rng.lognormal(0, exposure_spread, n_models)
    exposure /= exposure.sum()
    a = rng.choice(n_models, n_votes, p=exposure)
    b = rng.choice(n_models, n_votes, p=exposure)
    clash = a == b
    b[clash] = (a[clash] + rng.integers(1, n_models, clash.sum())) % n_models
    challenge = rng.integers(0, n_challenges, n_votes)
    # One answer per (challenge, model): each model has its own habits of length and markup.
    habit = rng.lognormal([5.5, 0.0, 0.8, 0.5], 0.6, (n_models, 4))
    style_counts = rng.poisson(habit[None, :, :] * rng.lognormal(0, 0.3, (n_challenges, 1, 4)))
    raw = ratings.style_differences(style_counts[challenge, a], style_counts[challenge, b])
    # Scaled as the fit scales them: over votes seen from both sides (mean zero).
    standardised = raw / np.sqrt((raw**2).mean(axis=0))
    gamma = np.asarray(gamma, dtype=np.float64)
    p = 1 / (1 + np.exp(-(strength[a] - strength[b] + standardised @ gamma)))
    tie_p = tie_rate * 4 * p * (1 - p)
    u = rng.random(n_votes)
    tie = u < tie_p
    win = ~tie & (u < tie_p + p - tie_p / 2)
    # One row per pair of answers that met: (challenge, a, b).
    key = (challenge * n_models + a) * n_models + b
    keys, inverse = np.unique(key, return_inverse=True)
    wins_a = np.bincount(inverse, win, keys.size)
    ties = np.bincount(inverse, tie, keys.size)
    wins_b = np.bincount(inverse, None, keys.size) - wins_a - ties
    row_b = keys % n_models
    row_a = (keys // n_models) % n_models
    row_challenge = keys // (n_models * n_models)
    features = ratings.style_differences(
        style_counts[row_challenge, row_a], style_counts[row_challenge, row_b]
    )
    style = ratings.StyleVotes(n_models, row_a, row_b, features, wins_a, wins_b, ties)
    counts = ratings.PairCounts.from_rows(n_models, row_a, row_b, wins_a, wins_b, ties)
    return Simulated(strength, gamma, style, counts, row_challenge)


def true_ratings(strength: np.ndarray) -> np.ndarray:
    return ratings.CENTRE + ratings.SCALE * (strength - strength.mean())
