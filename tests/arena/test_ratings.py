"""The rating maths against an independent reference and on known strengths."""

import choix
import numpy as np
import pytest
from scipy.stats import spearmanr

from apps.arena import ratings
from apps.arena.ratings import PairCounts


def simulated_counts(n_models: int, n_votes: int, *, seed: int = 7, tie_rate: float = 0.2):
    """Aggregated outcomes of `n_votes` battles between uniformly chosen pairs of models with
    known strengths: drawn per pair as counts, never as individual rows."""
    rng = np.random.default_rng(seed)
    strength = rng.normal(0, 1, n_models)
    first, second = np.triu_indices(n_models, 1)
    battles = rng.multinomial(n_votes, np.full(first.size, 1 / first.size))
    ties = rng.binomial(battles, tie_rate)
    p_first = 1 / (1 + np.exp(strength[second] - strength[first]))
    wins_first = rng.binomial(battles - ties, p_first)
    counts = PairCounts.from_rows(
        n_models, first, second, wins_first, battles - ties - wins_first, ties
    )
    return counts, strength


def test_ratings_match_choix_within_a_hundredth_of_a_point():
    counts, _ = simulated_counts(25, 40_000)
    wins = np.zeros((25, 25))
    wins[counts.first, counts.second] = counts.wins_first + counts.ties / 2
    wins[counts.second, counts.first] = counts.wins_second + counts.ties / 2
    reference = choix.ilsr_pairwise_dense(wins, tol=1e-12, max_iter=10_000)
    everyone = np.ones(25, dtype=bool)

    ours = ratings.to_scale(ratings.fit(counts), everyone)
    theirs = ratings.to_scale(reference, everyone)

    assert np.abs(ours - theirs).max() < 0.01


def test_two_hundred_models_and_a_million_votes_recover_the_true_order():
    counts, strength = simulated_counts(200, 1_000_000, seed=3)
    assert counts.n_votes == 1_000_000

    result = ratings.rate(counts, rounds=50, seed=1)

    assert spearmanr(result.rating, strength).statistic >= 0.99
    assert np.all(result.lower <= result.rating) and np.all(result.rating <= result.upper)


def test_ratings_are_centred_on_one_thousand_on_the_elo_scale():
    # A beats B three times out of four: 400·log10(3) ≈ 190.8 points apart.
    counts = PairCounts.from_rows(2, [0], [1], [300], [100], [0])

    result = ratings.rate(counts, rounds=0)

    assert result.rating.mean() == pytest.approx(1000)
    assert result.rating[0] - result.rating[1] == pytest.approx(400 * np.log10(3), abs=0.05)


def test_a_tie_counts_as_half_a_win_to_each_side():
    with_ties = PairCounts.from_rows(2, [0], [1], [30], [10], [20])
    as_half_wins = PairCounts.from_rows(2, [0], [1], [40], [20], [0])

    assert ratings.fit(with_ties) == pytest.approx(ratings.fit(as_half_wins))


def test_rows_in_either_order_are_aggregated_into_one_pair():
    counts = PairCounts.from_rows(3, [0, 1, 2], [1, 0, 1], [5, 2, 1], [1, 3, 1], [0, 1, 2])

    assert counts.first.tolist() == [0, 1]
    assert counts.second.tolist() == [1, 2]
    assert counts.wins_first.tolist() == [8, 1]
    assert counts.wins_second.tolist() == [3, 1]
    assert counts.ties.tolist() == [1, 2]


def test_bootstrap_is_deterministic_for_a_seed_and_differs_across_seeds():
    counts, _ = simulated_counts(30, 20_000)

    first = ratings.rate(counts, rounds=200, seed=11)
    again = ratings.rate(counts, rounds=200, seed=11)
    other = ratings.rate(counts, rounds=200, seed=12)

    assert np.array_equal(first.lower, again.lower) and np.array_equal(first.upper, again.upper)
    assert not np.array_equal(first.lower, other.lower)


def test_bootstrap_does_not_depend_on_the_number_of_threads():
    counts, _ = simulated_counts(30, 20_000)
    one = ratings.bootstrap(counts, rounds=120, seed=5, workers=1)
    two = ratings.bootstrap(counts, rounds=120, seed=5, workers=2)
    assert np.array_equal(one, two)


def test_multinomial_resamples_keep_the_total_and_the_expected_counts():
    counts, _ = simulated_counts(12, 5_000)
    cells = np.concatenate([counts.wins_first, counts.wins_second, counts.ties])
    sampler = ratings._MultinomialSampler(cells)

    draws = sampler.draw(np.random.default_rng(0), 2_000)

    assert np.all(draws.sum(axis=1) == cells.sum())
    assert np.all(draws >= 0)
    assert np.allclose(draws.mean(axis=0), cells, atol=4 * np.sqrt(cells.max() / 2_000) + 0.05)
    share = cells / cells.sum()
    assert np.allclose(draws.var(axis=0), cells.sum() * share * (1 - share), rtol=0.2, atol=0.2)


def test_bootstrap_refits_match_a_full_newton_fit_of_each_resample():
    counts, _ = simulated_counts(15, 8_000)
    theta_hat = ratings.fit(counts)
    cells = np.concatenate([counts.wins_first, counts.wins_second, counts.ties])
    rounds = ratings.bootstrap(counts, rounds=3, seed=9, theta_hat=theta_hat, workers=1)
    # The same resamples, redrawn from the same child seed, fitted one by one.
    rng = np.random.default_rng(np.random.SeedSequence(9).spawn(1)[0])
    drawn = ratings._MultinomialSampler(cells).draw(rng, 3)
    p = counts.first.size
    for r in range(3):
        one = PairCounts(
            15, counts.first, counts.second, drawn[r, :p], drawn[r, p : 2 * p], drawn[r, 2 * p :]
        )
        exact = ratings.fit(one)
        assert (
            np.abs(
                ratings.to_scale(rounds[r], np.ones(15, bool))
                - ratings.to_scale(exact, np.ones(15, bool))
            ).max()
            < 0.01
        )


def test_rank_is_one_plus_the_models_whose_lower_bound_is_above_its_upper_bound():
    lower = np.array([1100, 1090, 1000, 900, 880])
    upper = np.array([1200, 1150, 1080, 1010, 905])

    ranks = ratings.ranks_from_intervals(lower, upper)

    # 1080 < 1090 and 1100, so the third is 3rd; the fourth overlaps the third: also 3rd.
    assert ranks.tolist() == [1, 1, 3, 3, 4]


def test_a_model_without_votes_is_unrated_and_the_others_are_unaffected():
    counts = PairCounts.from_rows(3, [0], [1], [30], [10], [0])

    result = ratings.rate(counts, rounds=100)

    assert result.rated.tolist() == [True, True, False]
    assert np.isnan(result.rating[2]) and result.votes[2] == 0
    assert np.nanmean(result.rating) == pytest.approx(1000)
    assert result.rank[:2].tolist() == [1, 1] or result.rating[0] > result.rating[1]


def test_all_ties_give_everyone_the_same_rating():
    counts = PairCounts.from_rows(4, [0, 1, 2, 0], [1, 2, 3, 3], [0] * 4, [0] * 4, [10] * 4)

    result = ratings.rate(counts, rounds=100)

    assert result.rating == pytest.approx(np.full(4, 1000.0))
    assert result.rank.tolist() == [1, 1, 1, 1]


def test_a_model_that_never_lost_gets_a_finite_rating_above_the_rest():
    counts = PairCounts.from_rows(3, [0, 0, 1], [1, 2, 2], [20, 20, 10], [0, 0, 10], [0, 0, 0])

    result = ratings.rate(counts, rounds=100)

    assert np.all(np.isfinite(result.rating)) and np.all(np.isfinite(result.upper))
    assert result.rating[0] > result.rating[1]


def test_disconnected_groups_still_get_finite_ratings():
    counts = PairCounts.from_rows(4, [0, 2], [1, 3], [30, 5], [10, 25], [0, 0])

    result = ratings.rate(counts, rounds=50)

    assert np.all(np.isfinite(result.rating))
    assert result.rating[0] > result.rating[1] and result.rating[3] > result.rating[2]


def test_no_votes_at_all_gives_no_ratings():
    counts = PairCounts.from_rows(3, [], [], [], [], [])

    result = ratings.rate(counts)

    assert not result.rated.any()


def test_win_rate_matrix_is_the_observed_score_share_with_gaps_for_unseen_pairs():
    counts = PairCounts.from_rows(3, [0], [1], [3], [1], [2])

    matrix = ratings.win_rate_matrix(counts, np.array([0, 1, 2]))

    assert matrix[0, 1] == pytest.approx(4 / 6)
    assert matrix[1, 0] == pytest.approx(2 / 6)
    assert np.isnan(matrix[0, 2])
