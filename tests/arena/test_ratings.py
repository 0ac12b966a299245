"""The rating maths against an independent reference and on known strengths."""

import itertools

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


def _bounds(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scaled = ratings.to_scale(samples, np.ones(samples.shape[1], bool))
    return np.percentile(scaled, [2.5, 97.5], axis=0)


def _linearised_error(counts: PairCounts, rounds: int = 400) -> np.ndarray:
    """Per model, the larger move of a bound (linearised against converged refits of the very
    same resamples), as a share of the converged interval's width."""
    theta_hat = ratings.fit(counts)
    full_lower, full_upper = _bounds(
        ratings.bootstrap(counts, rounds=rounds, seed=3, theta_hat=theta_hat)
    )
    lin_lower, lin_upper = _bounds(
        ratings.bootstrap(counts, rounds=rounds, seed=3, theta_hat=theta_hat, linearised=True)
    )
    moved = np.maximum(np.abs(full_lower - lin_lower), np.abs(full_upper - lin_upper))
    return moved / (full_upper - full_lower)


def test_linearised_bootstrap_bounds_stay_within_two_percent_of_the_width_of_full_refits():
    # 1,000 votes per model on average, as on the 1M-vote benchmark's overall board (6,700)
    # and above its thinnest (verified voters, 667); measured there at up to 1.4%.
    counts, _ = simulated_counts(100, 50_000, seed=4)
    assert counts.votes_per_model().mean() >= ratings.LINEARISED_MIN_VOTES

    error = _linearised_error(counts)

    assert error.max() <= 0.02
    assert np.median(error) <= 0.005


def test_thin_boards_are_refitted_to_convergence_where_the_linearisation_drifts():
    thin, _ = simulated_counts(60, 3_000, seed=4)  # 100 votes per model
    thick, _ = simulated_counts(60, 30_000, seed=4)  # 1,000 votes per model
    # The linearisation error grows as the votes thin out (second order in 1/√votes)...
    assert _linearised_error(thin).max() > 2 * _linearised_error(thick).max()
    # ...so `rate` refits thin boards to convergence and linearises only thick ones.
    for counts, linearised in ((thin, False), (thick, True)):
        auto = ratings.rate(counts, rounds=100, seed=2)
        chosen = ratings.rate(counts, rounds=100, seed=2, linearised=linearised)
        other = ratings.rate(counts, rounds=100, seed=2, linearised=not linearised)
        assert np.array_equal(auto.lower, chosen.lower)
        assert np.array_equal(auto.upper, chosen.upper)
        assert not np.array_equal(auto.lower, other.lower)


def test_linearised_intervals_cover_the_true_ratings_about_95_percent_of_the_time():
    covered = []
    for seed in (1, 2, 3):
        # No ties: the simulation's ties do not depend on strength, so counting them as half
        # wins pulls every estimate towards the middle and no interval would be honest.
        counts, strength = simulated_counts(100, 50_000, seed=seed, tie_rate=0.0)
        result = ratings.rate(counts, rounds=400, seed=seed, linearised=True)
        truth = ratings.to_scale(strength, np.ones(100, bool))
        covered.append((result.lower <= truth) & (truth <= result.upper))

    assert 0.90 <= np.mean(covered) <= 0.99


def test_the_one_step_distribution_matches_the_one_step_estimates_of_many_resamples():
    # Thin enough (40 votes per model) for a visible skew, so the third cumulant is tested.
    counts, _ = simulated_counts(20, 400, seed=6)
    theta_hat = ratings.fit(counts)
    rated = counts.votes_per_model() > 0
    _, steps = ratings.bootstrap(
        counts, rounds=40_000, seed=8, theta_hat=theta_hat, linearised=True, first_step=True
    )
    offset = ratings.to_scale(steps, rated) - ratings.to_scale(theta_hat, rated)

    exact = ratings.one_step_distribution(counts, theta_hat, rated)

    sd = offset.std(axis=0)
    assert np.abs(offset.mean(axis=0) - exact.mean).max() < 0.03 * sd.min()
    assert np.abs(sd / exact.sd - 1).max() < 0.02
    skewness = ((offset - offset.mean(axis=0)) ** 3).mean(axis=0) / sd**3
    assert np.abs(exact.skewness).max() > 0.1  # there is something to match...
    assert np.abs(skewness - exact.skewness).max() < 0.05  # ...and it is matched
    # Cornish–Fisher quantiles, within Monte Carlo noise; the normal ones are 0.08–0.1 SD off.
    for p, z in ((2.5, -1.959964), (97.5, 1.959964)):
        quantile = np.percentile(offset, p, axis=0)
        assert (np.abs(quantile - exact.quantiles([z])[0]) / sd).max() < 0.05


def _reference_bounds(counts: PairCounts, rounds: int) -> tuple[np.ndarray, np.ndarray]:
    """Bounds of many linearised rounds, with the exact one-step quantiles as a control
    variate: Monte Carlo noise far below that of the estimates compared with them."""
    theta_hat = ratings.fit(counts)
    rated = counts.votes_per_model() > 0
    refits, steps = ratings.bootstrap(
        counts, rounds=rounds, seed=99, theta_hat=theta_hat, linearised=True, first_step=True
    )
    shift = np.percentile(ratings.to_scale(refits, rated), [2.5, 97.5], axis=0) - np.percentile(
        ratings.to_scale(steps, rated), [2.5, 97.5], axis=0
    )
    exact = ratings.one_step_distribution(counts, theta_hat, rated).quantiles([-1.959964, 1.959964])
    return ratings.to_scale(theta_hat, rated) + exact + shift


def test_thick_boards_resample_a_twentieth_of_the_rounds_and_land_closer_than_all_of_them():
    counts, _ = simulated_counts(100, 100_000, seed=5)  # 2,000 votes per model
    lower, upper = _reference_bounds(counts, 16_000)
    width = upper - lower

    controlled = ratings.rate(counts, rounds=1000, seed=1)
    plain = ratings.rate(counts, rounds=1000, seed=1, linearised=False)

    assert controlled.rounds == 50 and plain.rounds == 1000

    def error(result):
        return np.maximum(np.abs(result.lower - lower), np.abs(result.upper - upper)) / width

    assert error(controlled).max() < 0.03
    assert error(controlled).max() < error(plain).max() / 2
    assert np.median(error(controlled)) < np.median(error(plain)) / 2


def test_a_skewed_model_on_a_thick_board_gets_every_round_resampled():
    counts, _ = simulated_counts(60, 60_000, seed=4)
    # A newcomer with eight votes, seven of them lost: far from normal.
    newcomer = PairCounts.from_rows(
        61, [60] * 8, list(range(8)), [1] + [0] * 7, [0] + [1] * 7, [0] * 8
    )
    merged = PairCounts.from_rows(
        61,
        np.r_[counts.first, newcomer.first],
        np.r_[counts.second, newcomer.second],
        np.r_[counts.wins_first, newcomer.wins_first],
        np.r_[counts.wins_second, newcomer.wins_second],
        np.r_[counts.ties, newcomer.ties],
    )
    theta_hat = ratings.fit(merged)
    shape = ratings.one_step_distribution(merged, theta_hat, merged.votes_per_model() > 0)
    assert abs(shape.skewness[60]) > ratings.CONTROLLED_MAX_SHAPE

    assert ratings.rate(merged, rounds=300, seed=1).rounds == 300
    assert ratings.rate(counts, rounds=300, seed=1).rounds == 50


def test_multinomial_resamples_of_large_counts_use_the_tables_and_stay_exact():
    # Cells of hundreds to thousands of votes (10M votes over 300 models), and one beyond
    # the tables, which falls back to numpy's Poisson sampler.
    cells = np.array([300.0, 1_200.0, 2_048.0, 5_000.0, 40.0, 0.0, 7.0])
    sampler = ratings._MultinomialSampler(cells)
    assert sampler.large_index.tolist() == [3]

    draws = sampler.draw(np.random.default_rng(1), 4_000)

    assert np.all(draws.sum(axis=1) == cells.sum())
    assert np.all(draws[:, 5] == 0)
    share = cells / cells.sum()
    assert np.allclose(draws.mean(axis=0), cells, atol=4 * np.sqrt(cells / 4_000) + 0.05)
    assert np.allclose(draws.var(axis=0), cells.sum() * share * (1 - share), rtol=0.1, atol=0.05)


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


# --- style control ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", (0, 0, 0, 0)),
        (None, (0, 0, 0, 0)),
        ("# \n## \n**b** and __c__\n- \n1. x\n* y", (6, 2, 3, 2)),
        ("#hashtag is not a header\n-not a list\n** not bold **\n", (10, 0, 0, 1)),
        ("**" * 50_000, (0, 0, 0, 0)),
        ("```\n# inside code still looks like a header\n```", (7, 1, 0, 0)),
    ],
)
def test_style_counts_of_odd_and_hostile_text(text, expected):
    assert ratings.style_counts(text) == expected


def test_style_counts_stop_at_a_bound_on_huge_answers():
    huge = "word " * 1_000_000 + "# header\n" * 10  # 5 MB; the headers lie past the bound

    words, headers, lists, bold = ratings.style_counts(huge)

    assert words == ratings.STYLE_MAX_CHARS // 5 and headers == 0
    # Unclosed markers on one enormous line cannot make the bold pattern backtrack.
    assert ratings.style_counts("**" + "a" * 2_000_000) == (1, 0, 0, 0)
    assert ratings.style_counts("_" * 2_000_000)[3] == 0


def test_style_differences_are_bounded_and_zero_when_alike():
    diff = ratings.style_differences([[0, 0, 0, 0], [10**9, 3, 0, 1]], [[0, 0, 0, 0], [0, 3, 5, 1]])
    assert diff[0].tolist() == [0, 0, 0, 0]
    assert diff.min() > -1 and diff.max() < 1 and diff[1, 1] == 0 and diff[1, 3] == 0


def length_wins_votes(n_models=10, n_votes=30_000, seed=5):
    """Equal models, except that model 0 writes four times longer answers — and voters
    prefer longer answers. Side A's words, one row per vote."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n_models, n_votes)
    b = (a + rng.integers(1, n_models, n_votes)) % n_models
    words = np.where(np.arange(n_models) == 0, 800, 200)
    words_a = rng.poisson(words[a]) + 1
    words_b = rng.poisson(words[b]) + 1
    counts_a = np.stack([words_a, *(np.zeros(n_votes),) * 3], axis=1)
    counts_b = np.stack([words_b, *(np.zeros(n_votes),) * 3], axis=1)
    features = ratings.style_differences(counts_a, counts_b)
    p_a = 1 / (1 + np.exp(-2.0 * features[:, 0]))
    wins_a = (rng.random(n_votes) < p_a).astype(float)
    zeros = np.zeros(n_votes)
    votes = ratings.StyleVotes(n_models, a, b, features, wins_a, 1 - wins_a, zeros)
    counts = PairCounts.from_rows(n_models, a, b, wins_a, 1 - wins_a, zeros)
    return votes, counts


def test_a_model_that_wins_only_by_length_drops_into_the_pack_with_style_control():
    votes, counts = length_wins_votes()

    plain = ratings.rate(counts, rounds=100)
    style = ratings.style_fit(votes, initial=plain.theta)

    pack_plain = np.median(plain.rating[1:])
    pack_style = np.median(style.rating[1:])
    assert plain.rating[0] - pack_plain > 100
    assert plain.lower[0] > plain.upper[1:].max()  # plainly on top, clear of everyone
    assert abs(style.rating[0] - pack_style) < 25
    assert style.lower[0] < style.upper[1:].max()  # its interval overlaps the pack's
    assert style.coefficient[0] > 0.5 and style.coefficient_lower[0] > 0
    # No spread in headers, lists or bold: no coefficient rather than a made-up one.
    assert np.isnan(style.coefficient[1:]).all()


def test_a_vote_seen_from_either_side_gives_the_same_style_fit():
    votes, _ = length_wins_votes()
    mirror = np.random.default_rng(3).random(votes.first.size) < 0.3
    mirrored = ratings.StyleVotes(
        votes.n_models,
        np.where(mirror, votes.second, votes.first),
        np.where(mirror, votes.first, votes.second),
        np.where(mirror[:, None], -votes.features, votes.features),
        np.where(mirror, votes.wins_second, votes.wins_first),
        np.where(mirror, votes.wins_first, votes.wins_second),
        votes.ties,
    )

    fits = [ratings.style_fit(v) for v in (votes, mirrored)]

    for name in ("rating", "lower", "upper"):
        assert np.allclose(getattr(fits[0], name), getattr(fits[1], name), atol=1e-6)
    assert np.allclose(fits[0].coefficient[0], fits[1].coefficient[0], atol=1e-9)


def test_where_style_cannot_be_told_from_the_model_it_widens_the_intervals_only():
    # One answer per model: model 0's answers are long, the others' short and alike, so a
    # style difference is a model difference; sides shown both ways round, evenly.
    battles = [(0, other, 24, 6) for other in (1, 2, 3)]  # (a, b, a's wins, b's wins)
    battles += [(other, 0, 6, 24) for other in (1, 2, 3)]
    battles += [(1, 2, 10, 10), (1, 3, 10, 10), (2, 3, 10, 10)]
    first, second, wins_first, wins_second = map(np.array, zip(*battles, strict=True))
    words = np.array([[800, 1, 60, 60], [3, 0, 0, 0], [3, 0, 0, 0], [3, 0, 0, 0]])
    features = ratings.style_differences(words[first], words[second])
    ties = np.zeros(first.size)
    votes = ratings.StyleVotes(4, first, second, features, wins_first, wins_second, ties)
    counts = PairCounts.from_rows(4, first, second, wins_first, wins_second, ties)

    plain = ratings.rate(counts, rounds=200)
    style = ratings.style_fit(votes, initial=plain.theta)

    # The votes cannot say how much of model 0's lead is its style: its rating stays, its
    # interval widens (pinned by the penalty, it was once shown as a few points wide).
    assert np.abs(style.rating - plain.rating).max() < 5
    widths = style.upper - style.lower
    assert np.all(widths > 2 * (plain.upper - plain.lower))
    assert widths.max() < 2000  # wide, not unbounded


def test_models_that_never_met_across_groups_keep_style_intervals_like_the_plain_ones():
    # Text models battle text models and image models image models: the offset between the
    # two groups rests on the ridge alone, in the plain fit as in style control, and must not
    # blow the style-controlled intervals up (as counting the ridge in the sandwich did).
    rng = np.random.default_rng(8)
    first, second = [], []
    for group in (range(5), range(5, 10)):
        for a in group:
            for b in group:
                if a < b:
                    first += [a, b] * 40
                    second += [b, a] * 40
    first, second = np.array(first), np.array(second)
    strength = np.linspace(-1, 1, 10)
    wins_first = rng.random(first.size) < 1 / (1 + np.exp(strength[second] - strength[first]))
    wins_first = wins_first.astype(float)
    ties = np.zeros(first.size)
    features = rng.normal(0, 0.3, (first.size, 4))  # answers vary within every model
    votes = ratings.StyleVotes(10, first, second, features, wins_first, 1 - wins_first, ties)
    counts = PairCounts.from_rows(10, first, second, wins_first, 1 - wins_first, ties)

    plain = ratings.rate(counts, rounds=200)
    style = ratings.style_fit(votes, initial=plain.theta)

    widths, plain_widths = style.upper - style.lower, plain.upper - plain.lower
    assert np.all(widths < 2 * plain_widths)


def test_style_fit_without_style_differences_matches_the_plain_fit():
    counts, _ = simulated_counts(8, 5_000, seed=11)
    rows = counts.first.size
    features = np.random.default_rng(1).normal(0, 1e-13, (rows, 4))  # no usable spread
    votes = ratings.StyleVotes(
        8, counts.first, counts.second, features, counts.wins_first, counts.wins_second, counts.ties
    )
    everyone = np.ones(8, dtype=bool)

    style = ratings.style_fit(votes)

    assert np.abs(style.rating - ratings.to_scale(ratings.fit(counts), everyone)).max() < 0.01
    assert np.all(style.lower < style.rating) and np.all(style.rating < style.upper)


# --- provisional models and tiers --------------------------------------------------------------


def test_models_below_the_minimum_votes_get_no_rank():
    counts = PairCounts.from_rows(3, [0, 0], [1, 2], [200, 3], [100, 2], [0, 0])

    result = ratings.rate(counts, rounds=50, min_votes=100)

    assert result.rank[2] == 0 and result.rated[2]
    assert result.rank[0] >= 1 and result.rank[1] >= 1


def test_tiers_open_when_an_interval_falls_below_the_tier_leaders_lower_bound():
    rating = np.array([1100, 1090, 1060, 1000, 995, 900, 1200])
    lower = np.array([1080, 1050, 1040, 980, 900, 880, 1100])
    upper = np.array([1120, 1130, 1085, 1020, 1090, 920, 1300])
    ranked = np.array([True] * 6 + [False])

    tier = ratings.tiers(rating, lower, upper, ranked)

    # 1100 leads tier 1 (down to 1080): 1090 and 1060 reach it; 1000 (up to 1020) does not.
    assert tier.tolist() == [1, 1, 1, 2, 2, 3, 0]


# --- Rival Score -------------------------------------------------------------------------------


def test_rival_score_of_the_methodology_example():
    # 400 duels on two challenges, 200 each: won 70% on one, 50% on the other.
    result = ratings.rival_score(2, [0, 0], [1, 1], [7, 9], [140, 100], [60, 100], [0, 0])

    # win rate 0.6; per-challenge rates shrunk by 4 pseudo-duels: 142.4/204 and 102.4/204,
    # spread 0.0980, consistency 1 − 2·0.0980 = 0.8039; credibility 400/500 = 0.8.
    assert result.win_rate[0] == pytest.approx(0.6)
    assert result.consistency[0] == pytest.approx(1 - 2 * (142.4 / 204 - 0.6), abs=1e-9)
    assert result.credibility[0] == pytest.approx(0.8)
    assert result.score[0] == pytest.approx(1000 * 0.6 * 0.80392 * 0.8, abs=0.01)
    assert round(result.score[0]) == 386
    # The opponent: win rate 0.4, just as consistent, as credible.
    assert result.score[1] == pytest.approx(1000 * 0.4 * 0.80392 * 0.8, abs=0.01)


def test_rival_score_counts_ties_as_half_and_grows_with_duels():
    few = ratings.rival_score(2, [0], [1], [1], [6], [2], [2])
    many = ratings.rival_score(2, [0], [1], [1], [60], [20], [20])

    assert few.win_rate[0] == pytest.approx(0.7) == many.win_rate[0]
    assert few.consistency[0] == pytest.approx(1.0)
    assert many.score[0] > few.score[0] and many.score[0] < 700
    assert ratings.rival_score(3, [0], [1], [1], [1], [0], [0]).score[2] != 0  # NaN: no duels


# --- robustness --------------------------------------------------------------------------------


def _brute_force_flip(counts: PairCounts, upper: int, lower: int) -> int | None:
    """The fewest votes whose removal rates `lower` above `upper`, trying every removal."""
    cells = np.concatenate([counts.wins_first, counts.wins_second, counts.ties]).astype(int)
    p = counts.first.size
    best = None
    for removal in itertools.product(*(range(c + 1) for c in cells)):
        removed = sum(removal)
        if best is not None and removed >= best:
            continue
        left = cells - np.array(removal)
        theta = ratings.fit(
            PairCounts(3, counts.first, counts.second, left[:p], left[p : 2 * p], left[2 * p :])
        )
        if theta[lower] > theta[upper]:
            best = removed
    return best


def test_flip_counts_match_a_brute_force_search_on_a_small_board():
    counts = PairCounts.from_rows(3, [0, 0, 1], [1, 2, 2], [3, 2, 3], [1, 1, 1], [1, 0, 1])
    result = ratings.rate(counts, rounds=0)
    order = ratings.board_order(result.rating, result.rated)
    pairs = np.stack([order[:-1], order[1:]], axis=1)

    flips, exact = ratings.flip_votes(counts, result.theta, pairs, exact=len(pairs))

    assert exact.all()
    assert flips.tolist() == [_brute_force_flip(counts, u, lo) for u, lo in pairs]


def test_first_order_flip_counts_are_close_to_the_refitted_ones():
    counts, _ = simulated_counts(12, 6_000, seed=4)
    result = ratings.rate(counts, rounds=0)
    order = ratings.board_order(result.rating, result.rated)
    pairs = np.stack([order[:-1], order[1:]], axis=1)

    estimated, _ = ratings.flip_votes(counts, result.theta, pairs, exact=0)
    refitted, exact = ratings.flip_votes(counts, result.theta, pairs, exact=len(pairs))

    # First order ignores that each removal shifts the others' effects: it overstates large
    # counts by up to about a third, and is near for small ones (what the board shows).
    # Refits check the counts whose estimate is cheap to check (up to EXACT_MAX_VOTES).
    assert np.array_equal(exact, estimated <= ratings.EXACT_MAX_VOTES) and exact.sum() >= 8
    estimated, refitted = estimated[exact], refitted[exact]
    assert np.all(refitted >= 1)
    assert np.all(np.abs(estimated - refitted) <= np.maximum(2, 0.4 * refitted))
    small = refitted <= 20
    assert np.all(np.abs(estimated - refitted)[small] <= 2)
