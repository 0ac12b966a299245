"""Bradley–Terry ratings with bootstrap intervals: pure numpy/scipy, no Django.

Input is a table of *aggregated* outcomes per unordered pair of models (i, j): how often i
won, how often j won, and how often they tied ("both bad" is passed in as a tie). A tie is
half a win to each side. The fit maximises the Bradley–Terry likelihood

    P(i beats j) = 1 / (1 + exp(θj − θi))

with a very weak ridge prior (``alpha``, on the natural-log scale) that only matters where
the maximum likelihood does not exist: a model that never lost, or groups of models that
were never compared with each other. Ratings are reported on the Elo-like scale
``1000 + 400·log10(e)·(θ − mean θ)``.

Intervals come from a bootstrap that resamples the aggregated counts — a multinomial draw
of the same total over the (pair, outcome) cells — and refits every round. The refits are
batched: all rounds of a chunk are one matrix, iterated together with Newton steps that
reuse the Hessian of the full-data fit (the "chord" method), warm-started at the full-data
fit. Rounds that do not settle that way are refitted one by one with full Newton. On boards
with several hundred votes per model (``LINEARISED_MIN_VOTES``) every round instead takes two
fixed steps — the one-step (linearised) estimate and one chord correction — which keeps the
interval ends within ~1.5% of the width of converged refits (docs/ratings.md).
"""

from __future__ import annotations

import math
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import linalg, sparse, stats

SCALE = 400.0 / math.log(10.0)
CENTRE = 1000.0
DEFAULT_ALPHA = 1e-3
DEFAULT_ROUNDS = 1000
DEFAULT_SEED = 20240229


@dataclass(frozen=True)
class PairCounts:
    """Aggregated outcomes per unordered pair; ``first[k] < second[k]``, one row per pair."""

    n_models: int
    first: np.ndarray
    second: np.ndarray
    wins_first: np.ndarray
    wins_second: np.ndarray
    ties: np.ndarray

    @classmethod
    def from_rows(
        cls,
        n_models: int,
        model_a: np.ndarray,
        model_b: np.ndarray,
        wins_a: np.ndarray,
        wins_b: np.ndarray,
        ties: np.ndarray,
    ) -> PairCounts:
        """Canonicalise (a, b) rows in any order, possibly repeated, into one row per pair."""
        a = np.asarray(model_a, dtype=np.int64)
        b = np.asarray(model_b, dtype=np.int64)
        wa = np.asarray(wins_a, dtype=np.float64)
        wb = np.asarray(wins_b, dtype=np.float64)
        t = np.asarray(ties, dtype=np.float64)
        if np.any(a == b):
            raise ValueError("a model cannot be compared with itself")
        if a.size and (min(a.min(), b.min()) < 0 or max(a.max(), b.max()) >= n_models):
            raise ValueError("model index out of range")
        swap = a > b
        lo = np.where(swap, b, a)
        hi = np.where(swap, a, b)
        w_lo = np.where(swap, wb, wa)
        w_hi = np.where(swap, wa, wb)
        key = lo * n_models + hi
        keys, inverse = np.unique(key, return_inverse=True)
        n_pairs = keys.size
        return cls(
            n_models=n_models,
            first=keys // n_models,
            second=keys % n_models,
            wins_first=np.bincount(inverse, weights=w_lo, minlength=n_pairs),
            wins_second=np.bincount(inverse, weights=w_hi, minlength=n_pairs),
            ties=np.bincount(inverse, weights=t, minlength=n_pairs),
        )

    @property
    def totals(self) -> np.ndarray:
        return self.wins_first + self.wins_second + self.ties

    @property
    def n_votes(self) -> int:
        return int(round(self.totals.sum()))

    def votes_per_model(self) -> np.ndarray:
        n = self.totals
        m = self.n_models
        return np.bincount(self.first, n, m) + np.bincount(self.second, n, m)

    def score_per_model(self) -> np.ndarray:
        """Wins plus half the ties, per model."""
        half = self.ties / 2
        m = self.n_models
        return np.bincount(self.first, self.wins_first + half, m) + np.bincount(
            self.second, self.wins_second + half, m
        )


@dataclass(frozen=True)
class Ratings:
    """Per model (index = model position): rating, 95% interval, rank and vote facts.

    Models without any vote have ``rated == False`` and NaN rating and bounds; models not
    ranked (provisional) have rank 0.
    """

    rating: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    rank: np.ndarray
    votes: np.ndarray
    win_rate: np.ndarray
    rated: np.ndarray
    rounds: int
    seed: int
    theta: np.ndarray  # the fitted strengths on the natural-log scale


# --- fitting ---------------------------------------------------------------------------------


def _incidence(counts: PairCounts) -> sparse.csr_matrix:
    """Models × pairs: +1 for the first model of a pair, −1 for the second."""
    p = counts.first.size
    rows = np.concatenate([counts.first, counts.second])
    cols = np.concatenate([np.arange(p), np.arange(p)])
    data = np.concatenate([np.ones(p), -np.ones(p)])
    return sparse.csr_matrix((data, (rows, cols)), shape=(counts.n_models, p))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _hessian(counts: PairCounts, theta: np.ndarray, totals: np.ndarray, alpha: float):
    """Negative Hessian of the log-likelihood plus the ridge and a term fixing the mean."""
    m = counts.n_models
    p = _sigmoid(theta[counts.first] - theta[counts.second])
    v = totals * p * (1 - p)
    # One entry per pair (the pairs are distinct): a bincount places them, add.at was slower.
    h = np.bincount(counts.first * m + counts.second, -v, m * m).reshape(m, m)
    h += h.T
    h[np.diag_indices(m)] = -h.sum(axis=1) + alpha
    # Only differences of θ are identified; this term fixes the mean without moving the optimum.
    h += 1.0 / m
    return h


def _gradient(
    theta: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    score: np.ndarray,
    totals: np.ndarray,
    incidence: sparse.csr_matrix,
    alpha: float,
) -> np.ndarray:
    """Gradient of the penalised log-likelihood for one fit (1-D θ) or many (rounds × models)."""
    diff = np.take(theta, first, axis=-1)
    diff -= np.take(theta, second, axis=-1)
    # residual = score − totals·σ(diff), in place: these arrays are rounds × pairs.
    diff *= 0.5
    np.tanh(diff, out=diff)
    diff += 1
    diff *= 0.5
    diff *= totals
    residual = np.subtract(score, diff, out=diff)
    if theta.ndim == 1:
        return incidence @ residual - alpha * theta
    return (incidence @ residual.T).T - alpha * theta


def fit(
    counts: PairCounts,
    *,
    alpha: float = DEFAULT_ALPHA,
    initial: np.ndarray | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
) -> np.ndarray:
    """Penalised maximum-likelihood strengths θ (natural-log scale) by damped Newton."""
    m = counts.n_models
    theta = np.zeros(m) if initial is None else np.array(initial, dtype=np.float64)
    if counts.first.size == 0:
        return theta
    incidence = _incidence(counts)
    score = counts.wins_first + counts.ties / 2
    totals = counts.totals
    for _ in range(max_iter):
        grad = _gradient(theta, counts.first, counts.second, score, totals, incidence, alpha)
        step = linalg.solve(_hessian(counts, theta, totals, alpha), grad, assume_a="pos")
        # Cap the step: far from the optimum (e.g. a model that never lost) a full Newton
        # step on the logistic likelihood can overshoot.
        largest = np.abs(step).max()
        if largest > 2.0:
            step *= 2.0 / largest
        theta += step
        if largest < tol:
            break
    return theta


def to_scale(theta: np.ndarray, rated: np.ndarray) -> np.ndarray:
    """θ (one fit, or rounds × models) to the Elo-like scale, centred over rated models."""
    mean = theta[..., rated].mean(axis=-1, keepdims=True)
    return CENTRE + SCALE * (theta - mean)


# --- bootstrap -------------------------------------------------------------------------------


VOTE_TABLE_MAX = 50_000_000


class _MultinomialSampler:
    """Exact multinomial resampling of integer cell counts, fast for many small cells.

    numpy's multinomial draws one conditional binomial per cell, which is slow when there are
    a hundred thousand cells. Instead: draw independent Poisson(c·s/N) per cell with s a bit
    below N (by inverse-CDF tables, one per distinct small count c), reject the round in the
    rare case the total exceeds N, and top the total up to N with N − S categorical draws.
    Given their total S, independent Poissons are multinomial(S, c/N); adding an independent
    multinomial(N − S, c/N) gives exactly multinomial(N, c/N).
    """

    # Counts above this use numpy's Poisson sampler (tens of times slower a draw). Tables cost
    # 8 KB of guide per distinct count; at 10M votes / 300 models the overall board's cells
    # reach a few hundred votes.
    TABLE_MAX = 2048
    GUIDE_BITS = 10
    ONE = 1 << 31  # draws are 31-bit integers; CDFs are scaled to match

    def __init__(self, cells: np.ndarray):
        self.cells = cells.astype(np.int64)
        self.n = int(self.cells.sum())
        self.cumulative = np.cumsum(self.cells)
        # Vote → cell lookup for the top-up draws (4 bytes a vote); a binary search beyond.
        self.vote_cell = (
            np.repeat(np.arange(self.cells.size, dtype=np.int32), self.cells)
            if self.n <= VOTE_TABLE_MAX
            else None
        )
        self.s = max(0.0, self.n - 3.0 * math.sqrt(self.n) - 3.0)
        ratio = self.s / self.n if self.n else 0.0
        # Zero cells stay zero. When they are few, drawing them anyway (always 0) is cheaper
        # than scattering the others into place.
        small = self.cells <= self.TABLE_MAX
        if np.mean(self.cells == 0) > 0.1:
            small &= self.cells > 0
        self.all_small = bool(small.all())
        self.small_index = np.flatnonzero(small)
        self.large_index = np.flatnonzero(self.cells > self.TABLE_MAX)
        self.large_rates = self.cells[self.large_index] * ratio
        values = np.unique(self.cells[self.small_index])
        guide_size = 1 << self.GUIDE_BITS
        edges = np.arange(guide_size + 1, dtype=np.int64) << (31 - self.GUIDE_BITS)
        cdfs, guides, offsets = [], [], []
        offset = 0
        for value in values:
            rate = value * ratio
            top = int(rate + 12 * math.sqrt(rate) + 30)
            cdf = np.floor(stats.poisson.cdf(np.arange(top + 1), rate) * self.ONE).astype(np.int64)
            cdf = np.minimum(cdf, self.ONE)
            cdf[-1] = self.ONE
            # For each bin of draws: the smallest k whose CDF exceeds the bin's start, and the
            # CDF value to compare with when a step of the CDF falls inside the bin.
            k = np.searchsorted(cdf, edges[:-1], side="right")
            threshold = np.where(cdf[k] < edges[1:], cdf[k], self.ONE)
            guides.append(np.stack([k, threshold], axis=1))
            cdfs.append(cdf)
            offsets.append(offset)
            offset += cdf.size
        # With every cell above TABLE_MAX (a few pairs with many votes each) there is no table.
        self.cdf = np.concatenate(cdfs or [np.zeros(0, np.int64)]).astype(np.uint32)
        # (k, threshold) pairs packed into one 64-bit word: one gather per draw.
        guide = np.concatenate(guides or [np.zeros((0, 2), np.int64)]).astype(np.uint32)
        self.guide = np.ascontiguousarray(guide).view(np.uint64)
        self.guide = self.guide.reshape(-1)
        position = np.searchsorted(values, self.cells[self.small_index])
        self.guide_base = (position * guide_size).astype(np.uint32)
        self.cdf_base = np.asarray(offsets, dtype=np.int64)[position]

    def draw(self, rng: np.random.Generator, rounds: int) -> np.ndarray:
        """``rounds`` resamples as float32 (exact integers), rounds × cells."""
        shape = (rounds, self.cells.size)
        if self.n == 0:
            return np.zeros(shape, np.float32)
        out = np.empty(shape, np.float32) if self.all_small else np.zeros(shape, np.float32)
        self._poisson_into(rng, out)
        # Sums of integers stay exact in float32 below 2**24, and are much faster.
        exact = np.float32 if self.n < 2**24 else np.float64
        totals = out.sum(axis=1, dtype=exact).astype(np.float64)
        # Rows whose Poisson total overshot N (rare: s is 3·√N below N) are drawn again.
        rejected = np.flatnonzero(totals > self.n)
        while rejected.size:
            again = np.zeros((rejected.size, self.cells.size), np.float32)
            self._poisson_into(rng, again)
            out[rejected] = again
            totals[rejected] = again.sum(axis=1, dtype=exact)
            rejected = rejected[totals[rejected] > self.n]
        self._top_up(rng, out, self.n - totals.astype(np.int64))
        return out

    def _poisson_into(self, rng: np.random.Generator, block: np.ndarray) -> None:
        rounds, size = block.shape[0], self.small_index.size
        if size == 0:
            block[:, self.large_index] = rng.poisson(
                self.large_rates, size=(rounds, self.large_index.size)
            )
            return
        words = rng.bit_generator.random_raw((rounds * size + 1) // 2)
        draws = words.view(np.uint32)[: rounds * size]
        draws >>= 1
        draws = draws.reshape(rounds, size)
        bins = draws >> (31 - self.GUIDE_BITS)
        bins += self.guide_base
        entry = self.guide[bins].view(np.uint32).reshape(rounds, size, 2)
        walk = np.flatnonzero(draws >= entry[..., 1])
        if walk.size:
            pairs, flat_draws = entry.reshape(-1, 2), draws.reshape(-1)
            base = self.cdf_base[walk % size]
            while walk.size:
                pairs[walk, 0] += 1
                more = flat_draws[walk] >= self.cdf[base + pairs[walk, 0]]
                walk, base = walk[more], base[more]
        value = entry[..., 0]
        if self.all_small:
            block[:] = value
        else:
            block[:, self.small_index] = value
            block[:, self.large_index] = rng.poisson(
                self.large_rates, size=(rounds, self.large_index.size)
            )

    def _top_up(self, rng: np.random.Generator, rows: np.ndarray, missing: np.ndarray) -> None:
        """Add `missing[r]` categorical draws (probabilities c/N) to each row r: pick votes
        uniformly and look up their cells."""
        row_of_pick = np.repeat(np.arange(rows.shape[0], dtype=np.int64), missing)
        votes = rng.integers(0, self.n, size=row_of_pick.size)
        if self.vote_cell is not None:
            cells = self.vote_cell[votes]
        else:
            cells = np.searchsorted(self.cumulative, votes, side="right")
        # A flat index and a value of the array's own dtype: numpy's fast path for add.at,
        # some fifty times faster than a tuple index or an int value.
        np.add.at(rows.reshape(-1), row_of_pick * rows.shape[1] + cells, rows.dtype.type(1))


def bootstrap(
    counts: PairCounts,
    *,
    rounds: int = DEFAULT_ROUNDS,
    seed: int = DEFAULT_SEED,
    alpha: float = DEFAULT_ALPHA,
    theta_hat: np.ndarray | None = None,
    workers: int = 2,
    tol: float = 3e-4,
    max_chord_iter: int = 25,
    linearised: bool = False,
    first_step: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """θ refitted on ``rounds`` multinomial resamples of the counts: (rounds × models).

    Deterministic for a seed: rounds are drawn in fixed chunks, each from its own child of
    the seed, so the result does not depend on ``workers`` (threads; numpy releases the GIL).
    Rounds are iterated until every last Newton step is below ``tol`` (natural-log scale);
    the chord steps shrink about twentyfold each, so this leaves every round within about
    2e-5 of its exact refit — a few thousandths of a rating point.

    ``linearised``: every round takes exactly two steps from θ̂ with the full data's Hessian —
    the one-step (linearised) estimate θ̂ + H⁻¹g, g the resample's gradient at θ̂, then one
    chord correction — with no convergence check and no fallback. On boards with several
    hundred votes per model this moves the 2.5/97.5 percentiles by at most ~1.5% of the
    interval width (median ~0.3%) from the converged refits (tests, docs/ratings.md).

    ``first_step``: also return, for the same resamples, the one-step estimate θ̂ + H⁻¹g
    that the refits start from: (refits, first steps).
    """
    if linearised:
        tol, max_chord_iter = math.inf, 1
    if theta_hat is None:
        theta_hat = fit(counts, alpha=alpha)
    result = np.tile(theta_hat, (rounds, 1))
    first = result.copy() if first_step else None
    if counts.first.size == 0 or rounds == 0:
        return (result, first) if first_step else result
    cells = np.concatenate([counts.wins_first, counts.wins_second, counts.ties])
    if np.any(cells != np.round(cells)):
        raise ValueError("bootstrap needs integer counts")
    hessian = _hessian(counts, theta_hat, counts.totals, alpha)
    shared = _BootstrapChunk(
        counts=counts,
        sampler=_MultinomialSampler(cells),
        incidence=_incidence(counts).astype(np.float32),
        inverse=linalg.inv(hessian, overwrite_a=True),
        theta_hat=theta_hat,
        alpha=alpha,
        tol=tol,
        max_chord_iter=max_chord_iter,
    )
    starts = list(range(0, rounds, CHUNK_ROUNDS))
    seeds = np.random.SeedSequence(seed).spawn(len(starts))

    def run(index: int) -> None:
        start = starts[index]
        stop = min(rounds, start + CHUNK_ROUNDS)
        refits, steps = shared.refit(np.random.default_rng(seeds[index]), stop - start)
        result[start:stop] = refits
        if first is not None:
            first[start:stop] = steps

    if workers > 1 and len(starts) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(run, range(len(starts))))
    else:
        for index in range(len(starts)):
            run(index)
    return (result, first) if first_step else result


# Small chunks keep the rounds-by-pairs arrays in cache: measured faster than 20 or 50.
CHUNK_ROUNDS = 10


@dataclass(frozen=True)
class _BootstrapChunk:
    counts: PairCounts
    sampler: _MultinomialSampler
    incidence: sparse.csr_matrix
    inverse: np.ndarray
    theta_hat: np.ndarray
    alpha: float
    tol: float
    max_chord_iter: int

    def refit(self, rng: np.random.Generator, rounds: int) -> tuple[np.ndarray, np.ndarray]:
        """The refits of ``rounds`` resamples, and the one-step estimates they started from."""
        counts, alpha = self.counts, self.alpha
        first, second = counts.first, counts.second
        n_pairs = first.size
        drawn = self.sampler.draw(rng, rounds)
        w1, w2, t = drawn[:, :n_pairs], drawn[:, n_pairs : 2 * n_pairs], drawn[:, 2 * n_pairs :]
        score = w1 + t / 2
        totals = w1 + w2 + t
        # The first step is linear in the counts because σ at the warm start is shared.
        sigma_hat = _sigmoid(self.theta_hat[first] - self.theta_hat[second]).astype(np.float32)
        grad = (self.incidence @ (score - totals * sigma_hat).T).T - alpha * self.theta_hat
        first_step = self.theta_hat + grad @ self.inverse
        theta = first_step.copy()
        largest = np.zeros(rounds)
        for _ in range(self.max_chord_iter):
            grad = _gradient(
                theta.astype(np.float32), first, second, score, totals, self.incidence, alpha
            )
            step = grad.astype(np.float64) @ self.inverse
            theta += step
            largest = np.abs(step).max(axis=1)
            if largest.max() < self.tol:
                break
        for r in np.flatnonzero(largest >= self.tol):
            # Far from the full-data fit the shared Hessian is a poor guide: full Newton.
            one = PairCounts(counts.n_models, first, second, w1[r], w2[r], t[r])
            theta[r] = fit(one, alpha=alpha, initial=self.theta_hat)
        return theta, first_step


# Mean votes per rated model from which `rate` uses the linearised bootstrap. Measured at
# 300 models (docs/ratings.md): 667 votes per model (100k votes) moves the bounds by at most
# 1.2–1.4% of the interval's width, 133 per model (20k votes) by up to 3.4%.
LINEARISED_MIN_VOTES = 500


# --- the one-step statistic's exact bootstrap distribution ----------------------------------

# On linearised boards, `rate` resamples only 1/CONTROLLED_ROUNDS_SHARE of its rounds (at
# least CONTROLLED_MIN_ROUNDS): the one-step estimate's bootstrap distribution is known
# exactly (`one_step_distribution`), and the rounds are only needed for the small correction
# from it to the refits. Measured on the 1M-vote benchmark's boards (docs/ratings.md), the
# bounds from 50 rounds this way land 2-5 times closer to a 16,000-round reference than
# those from 1,000 plain rounds (100 rounds: 3-8 times, at twice the draws).
CONTROLLED_ROUNDS_SHARE = 20
CONTROLLED_MIN_ROUNDS = 50
# Only while every rated model's one-step distribution is this close to normal (standardised
# skewness and excess kurtosis, where the Cornish–Fisher expansion is accurate to well under
# 1% of the interval)...
CONTROLLED_MAX_SHAPE = 0.15
# ...and the correction stays small next to the one-step spread (its standard deviation, as
# a share of the one-step's). Otherwise every round is resampled, as on thinner boards.
CONTROLLED_MAX_CORRECTION = 0.2
Z_BOUNDS = stats.norm.ppf([0.025, 0.975])


@dataclass(frozen=True)
class OneStep:
    """Per model, on the rating scale: the mean offset from the fitted rating, standard
    deviation, skewness and excess kurtosis of the one-step estimate under multinomial
    resampling of the counts."""

    mean: np.ndarray
    sd: np.ndarray
    skewness: np.ndarray
    kurtosis: np.ndarray

    def quantiles(self, z: np.ndarray) -> np.ndarray:
        """Offsets from the fitted rating at standard normal quantiles ``z`` (len(z) ×
        models), by the Cornish–Fisher expansion to the fourth cumulant."""
        z = np.asarray(z, dtype=np.float64)[:, None]
        g1, g2 = self.skewness, self.kurtosis
        w = z + (z**2 - 1) * g1 / 6 + (z**3 - 3 * z) * g2 / 24 - (2 * z**3 - 5 * z) * g1**2 / 36
        return self.mean + self.sd * w


def one_step_distribution(
    counts: PairCounts, theta_hat: np.ndarray, rated: np.ndarray, *, alpha: float = DEFAULT_ALPHA
) -> OneStep:
    """The one-step estimate θ̂ + H⁻¹g of a multinomial resample is linear in the resampled
    counts: each of the N resampled votes adds (y − σ̂)·vᵢⱼ, where vᵢⱼ = H⁻¹(eᵢ − eⱼ)
    centred over the rated models, for its cell's pair (i, j) and outcome y. A rating is then
    a sum of N independent draws of one discrete variable, whose cumulants are N times those
    of a single draw: exact, from the cells, with no resampling. The power sums over cells
    fold into (models × models) matrices, so this costs a few m³ products, not a pass per
    round."""
    m = counts.n_models
    inverse = linalg.inv(_hessian(counts, theta_hat, counts.totals, alpha))
    share = rated / rated.sum()
    # Row k: the rating of model k (centred over the rated models) per unit of gradient.
    v = inverse - share @ inverse
    # Only differences vₖᵢ − vₖⱼ matter; centring each row keeps the expansion below exact
    # in floating point (no large common term cancelling).
    v -= v.mean(axis=1, keepdims=True)
    n = counts.totals.sum()
    sigma = _sigmoid(theta_hat[counts.first] - theta_hat[counts.second])
    # Per outcome: its share of the votes, and (y − σ) raised to the power r below.
    outcomes = [
        (cell / n, y - sigma, y - sigma)
        for cell, y in ((counts.wins_first, 1.0), (counts.wins_second, 0.0), (counts.ties, 0.5))
    ]
    powers = [None, v, v * v, v * v * v, (v * v) ** 2]
    raw = [None]
    for r in range(1, 5):
        # Σ over pairs of E[(y − σ)^r]·(vₖ,first − vₖ,second)^r. Seen from the other side a
        # pair has y − σ and the difference of v both negated, so its weights can be split
        # evenly between (first, second) and (second, first), (−1)^r on the latter; the
        # binomial expansion's terms s and r − s are then equal, and s = 0 is a product with
        # column sums: four m³ products in all instead of fourteen.
        if r > 1:
            outcomes = [(share, residual, power * residual) for share, residual, power in outcomes]
        per_pair = sum(share * power for share, _, power in outcomes)
        weights = np.zeros((m, m))
        weights[counts.first, counts.second] = per_pair
        weights = (weights + (-1) ** r * weights.T) / 2
        total = np.zeros(m)
        for s in range(r // 2 + 1):
            factor = math.comb(r, s) * (-1) ** (r - s) * (1 if 2 * s == r else 2)
            if s == 0:
                term = powers[r] @ weights.sum(axis=0)
            else:
                term = np.einsum("ki,ki->k", powers[s] @ weights, powers[r - s])
            total += factor * term
        raw.append(total)
    mu = raw[1]
    k2 = raw[2] - mu**2
    k3 = raw[3] - 3 * raw[2] * mu + 2 * mu**3
    k4 = raw[4] - 4 * raw[3] * mu + 6 * raw[2] * mu**2 - 3 * mu**4 - 3 * k2**2
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(n * k2.clip(min=0))
        skewness = n * k3 / sd**3
        kurtosis = n * k4 / sd**4
    # The ridge's share of the gradient, −αθ̂, is the same in every resample.
    mean = n * mu - alpha * (v @ theta_hat)
    return OneStep(SCALE * mean, SCALE * sd, skewness, kurtosis)


def _controlled_bounds(
    counts: PairCounts,
    theta_hat: np.ndarray,
    rated: np.ndarray,
    *,
    rounds: int,
    seed: int,
    alpha: float,
    workers: int,
) -> tuple[np.ndarray, np.ndarray, int] | None:
    """2.5/97.5 percentiles of the linearised refits with the one-step estimate as a control
    variate, and the rounds resampled; None where that is not accurate.

    Each resample's refit T is its one-step estimate L plus a small correction Q = T − L.
    L's distribution is known exactly (`one_step_distribution`); the rounds only estimate Q
    as a smooth function of L (least squares on 1, z, z²; z the standardised L). A bound is
    then q + Q(q), q the exact quantile of L: the noise of a percentile of resamples is left
    in Q's fit only, and Q is small."""
    if rated.sum() < 3:
        return None
    shape = one_step_distribution(counts, theta_hat, rated, alpha=alpha)
    # (Not finite, where a rated model's one-step spread were zero, also says no.)
    if not np.all(
        np.abs(np.r_[shape.skewness[rated], shape.kurtosis[rated]]) <= CONTROLLED_MAX_SHAPE
    ):
        return None
    resampled = min(rounds, max(CONTROLLED_MIN_ROUNDS, -(-rounds // CONTROLLED_ROUNDS_SHARE)))
    refits, steps = bootstrap(
        counts,
        rounds=resampled,
        seed=seed,
        alpha=alpha,
        theta_hat=theta_hat,
        linearised=True,
        first_step=True,
        workers=workers,
    )
    refit = to_scale(refits, rated)[:, rated]
    step = to_scale(steps, rated)[:, rated]
    correction = refit - step
    centre, spread = step.mean(axis=0), step.std(axis=0)
    if not np.all(spread > 0) or np.any(
        correction.std(axis=0) > CONTROLLED_MAX_CORRECTION * spread
    ):
        return None
    z = (step - centre) / spread
    design = np.stack([np.ones_like(z), z, z * z], axis=-1)  # rounds × models × 3
    normal = np.einsum("rmi,rmj->mij", design, design)
    coefficient = np.linalg.solve(normal, np.einsum("rmi,rm->mi", design, correction)[..., None])
    coefficient = coefficient[..., 0]
    rating = to_scale(theta_hat, rated)[rated]
    bounds = rating + shape.quantiles(Z_BOUNDS)[:, rated]  # exact quantiles of L
    at = (bounds - centre) / spread
    bounds += coefficient[:, 0] + coefficient[:, 1] * at + coefficient[:, 2] * at * at
    lower, upper = np.full(counts.n_models, np.nan), np.full(counts.n_models, np.nan)
    lower[rated], upper[rated] = bounds
    return lower, upper, resampled


def ranks_from_intervals(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Rank = 1 + number of models whose lower bound is above this model's upper bound."""
    lower = np.asarray(lower, dtype=np.float64)
    upper = np.asarray(upper, dtype=np.float64)
    sorted_lower = np.sort(lower)
    above = lower.size - np.searchsorted(sorted_lower, upper, side="right")
    return 1 + above


def rate(
    counts: PairCounts,
    *,
    rounds: int = DEFAULT_ROUNDS,
    seed: int = DEFAULT_SEED,
    alpha: float = DEFAULT_ALPHA,
    min_votes: int = 0,
    linearised: bool | None = None,
    workers: int = 2,
) -> Ratings:
    """Ratings and 95% bootstrap intervals for every model with a vote; interval ranks for
    those with at least ``min_votes`` votes (the others are provisional: rank 0).

    ``linearised`` (see ``bootstrap``); None: when the rated models have on average at least
    LINEARISED_MIN_VOTES votes each, where the linearised refit is accurate; below that the
    rounds are refitted to convergence (such boards have few cells and cost little).
    ``workers``: threads for the bootstrap's rounds."""
    votes = counts.votes_per_model()
    rated = votes > 0
    theta_hat = fit(counts, alpha=alpha)
    rating = to_scale(theta_hat, rated) if rated.any() else np.full(counts.n_models, np.nan)
    if linearised is None:
        linearised = bool(rated.any()) and votes[rated].mean() >= LINEARISED_MIN_VOTES
    controlled = None
    if rounds > 0 and rated.any() and linearised:
        controlled = _controlled_bounds(
            counts, theta_hat, rated, rounds=rounds, seed=seed, alpha=alpha, workers=workers
        )
    if controlled is not None:
        lower, upper, rounds = controlled
    elif rounds > 0 and rated.any():
        samples = to_scale(
            bootstrap(
                counts,
                rounds=rounds,
                seed=seed,
                alpha=alpha,
                theta_hat=theta_hat,
                linearised=linearised,
                workers=workers,
            ),
            rated,
        )
        lower, upper = np.percentile(samples, [2.5, 97.5], axis=0)
    else:
        lower, upper = rating.copy(), rating.copy()
    rating = np.where(rated, rating, np.nan)
    lower = np.where(rated, lower, np.nan)
    upper = np.where(rated, upper, np.nan)
    ranked = rated & (votes >= min_votes)
    rank = np.zeros(counts.n_models, dtype=np.int64)
    if ranked.any():
        rank[ranked] = ranks_from_intervals(lower[ranked], upper[ranked])
    with np.errstate(invalid="ignore", divide="ignore"):
        win_rate = np.where(rated, counts.score_per_model() / votes, np.nan)
    return Ratings(
        rating=rating,
        lower=lower,
        upper=upper,
        rank=rank,
        votes=votes.round().astype(np.int64),
        win_rate=win_rate,
        rated=rated,
        rounds=rounds,
        seed=seed,
        theta=theta_hat,
    )


def win_rate_matrix(counts: PairCounts, models: np.ndarray) -> np.ndarray:
    """Observed score share (wins + half ties) of row model against column model; NaN if unseen."""
    models = np.asarray(models, dtype=np.int64)
    position = np.full(counts.n_models, -1)
    position[models] = np.arange(models.size)
    i, j = position[counts.first], position[counts.second]
    keep = (i >= 0) & (j >= 0)
    i, j = i[keep], j[keep]
    score = (counts.wins_first + counts.ties / 2)[keep]
    total = counts.totals[keep]
    k = models.size
    scores = np.zeros((k, k))
    totals = np.zeros((k, k))
    scores[i, j] += score
    scores[j, i] += total - score
    totals[i, j] += total
    totals[j, i] += total
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, scores / totals, np.nan)


# --- provisional models and tiers ------------------------------------------------------------


def board_order(rating: np.ndarray, ranked: np.ndarray) -> np.ndarray:
    """Indices of ranked models, best rating first (ties broken by index)."""
    ranked_index = np.flatnonzero(ranked)
    return ranked_index[np.argsort(-rating[ranked_index], kind="stable")]


def tiers(rating: np.ndarray, lower: np.ndarray, upper: np.ndarray, ranked: np.ndarray):
    """Tier per model (1 = top, 0 = not ranked). Walking down the board, a model opens a new
    tier when its whole interval lies below the lower bound of the current tier's first
    model; otherwise it joins that tier. Overlap is judged against the tier's leader, not
    chained from neighbour to neighbour, so one wide interval cannot merge the board."""
    tier = np.zeros(rating.size, dtype=np.int64)
    current, leader_lower = 0, np.inf
    for i in board_order(rating, ranked):
        if upper[i] < leader_lower:
            current += 1
            leader_lower = lower[i]
        tier[i] = current
    return tier


# --- style control ---------------------------------------------------------------------------

STYLE_FEATURES = ("length", "headers", "lists", "bold")
# Markdown style marks, one pattern each, written so that no input makes them backtrack:
# none has a nested or overlapping repetition, and the bold spans stop at the next marker.
_HEADER = re.compile(r"^ {0,3}#{1,6}(?:[ \t]|$)", re.MULTILINE)
_LIST_ITEM = re.compile(r"^[ \t]{0,12}(?:[-*+]|\d{1,9}[.)])[ \t]", re.MULTILINE)
_BOLD = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")
# Runs of letters and digits: a line of bare markup adds no words.
_WORD = re.compile(r"\w+")
# Answers longer than this are measured on their first STYLE_MAX_CHARS characters: the
# features are ratios (a − b)/(a + b + 1), which barely move beyond such lengths.
STYLE_MAX_CHARS = 1_000_000


def style_counts(text: str | None) -> tuple[int, int, int, int]:
    """(words, Markdown headers, list items, bold spans) of one answer."""
    text = (text or "")[:STYLE_MAX_CHARS]
    return (
        sum(1 for _ in _WORD.finditer(text)),
        len(_HEADER.findall(text)),
        len(_LIST_ITEM.findall(text)),
        len(_BOLD.findall(text)),
    )


def style_differences(counts_a: np.ndarray, counts_b: np.ndarray) -> np.ndarray:
    """(a − b)/(a + b + 1) per feature: in (−1, 1), 0 when both sides are alike."""
    a = np.asarray(counts_a, dtype=np.float64)
    b = np.asarray(counts_b, dtype=np.float64)
    difference = a - b
    total = a + b  # one temporary less: these are (tally rows × features)
    total += 1
    difference /= total
    return difference


@dataclass(frozen=True)
class StyleVotes:
    """Aggregated outcomes per (model a, model b, style differences) row: one row per pair of
    answers that met in battle, ``features`` are side a's differences (rows × features)."""

    n_models: int
    first: np.ndarray
    second: np.ndarray
    features: np.ndarray
    wins_first: np.ndarray
    wins_second: np.ndarray
    ties: np.ndarray

    @property
    def totals(self) -> np.ndarray:
        return self.wins_first + self.wins_second + self.ties


@dataclass(frozen=True)
class StyleFit:
    """Strengths with style controlled, on the Elo-like scale, and per-feature coefficients
    (log-odds per standard deviation of the feature) with their 95% intervals."""

    rating: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    rated: np.ndarray
    coefficient: np.ndarray
    coefficient_lower: np.ndarray
    coefficient_upper: np.ndarray
    iterations: int


Z_95 = float(stats.norm.ppf(0.975))
NEWTON_STEPS = 2
# The style coefficients' prior: normal, this standard deviation in log-odds per standard
# deviation of a style difference (measured effects are a few tenths). Where the votes pin a
# coefficient down it changes nothing; where they cannot tell style from the model (each
# model with one answer, say) it keeps the style-controlled ratings wide but finite.
STYLE_PRIOR_SD = 1.0


class _StyleDesign:
    """The contextual Bradley–Terry design: rows of (model pair, standardised features).

    Rows are sorted by model pair, so sums per pair are contiguous (``np.add.reduceat``);
    gradient and Hessian are folded from pairs onto models. An iteration costs a few passes
    over the rows plus an (m + k)² solve, whatever the number of votes."""

    def __init__(self, votes: StyleVotes, rated: np.ndarray):
        index = np.full(votes.n_models, -1)
        index[rated] = np.arange(rated.size)
        self.m = m = rated.size
        key = index[votes.first] * m + index[votes.second]
        order = np.argsort(key, kind="stable")
        key = key[order]
        self.starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        pair_keys = key[self.starts]
        self.pair_first, self.pair_second = pair_keys // m, pair_keys % m
        self.row_pair = np.repeat(
            np.arange(self.starts.size), np.diff(np.r_[self.starts, key.size])
        )
        self.wins_first = np.asarray(votes.wins_first, dtype=np.float64)[order]
        self.wins_second = np.asarray(votes.wins_second, dtype=np.float64)[order]
        self.ties = np.asarray(votes.ties, dtype=np.float64)[order]
        self.totals = self.wins_first + self.wins_second + self.ties
        self.score = self.wins_first + self.ties / 2
        raw = np.asarray(votes.features, dtype=np.float64)[order]
        weight = self.totals / self.totals.sum()
        # Scaled to unit standard deviation over votes seen from both sides, where the
        # differences average zero: not centred on the sides as shown, which would make the
        # fit depend on which answer happened to be side a (a mean offset acts as a side
        # bonus). So a row and its mirror image give the same fit, and rows may be merged.
        sd = np.sqrt(weight @ raw**2)
        # A feature with no spread (say, no answer has a header) carries no information.
        self.usable = sd > 1e-12
        # Features × rows, so that every per-feature pass reads contiguous memory.
        self.features = np.ascontiguousarray(
            np.where(self.usable, raw / np.where(self.usable, sd, 1.0), 0.0).T
        )
        self.k = raw.shape[1]

    def _to_models(self, per_pair: np.ndarray) -> np.ndarray:
        """Pair sums (c × pairs) onto models (c × m): + first model, − second model."""
        return np.stack(
            [
                np.bincount(self.pair_first, row, self.m)
                - np.bincount(self.pair_second, row, self.m)
                for row in per_pair
            ]
        )

    def eta(self, beta: np.ndarray) -> np.ndarray:
        theta, gamma = beta[: self.m], beta[self.m :]
        diff = theta[self.pair_first] - theta[self.pair_second]
        return diff[self.row_pair] + gamma @ self.features

    def gradient(self, beta: np.ndarray, p: np.ndarray, alpha) -> np.ndarray:
        residual = self.score - self.totals * p
        per_pair = np.add.reduceat(residual, self.starts)
        g = np.concatenate([self._to_models(per_pair[None])[0], self.features @ residual])
        return g - alpha * beta

    def information(self, weight: np.ndarray, alpha) -> np.ndarray:
        """Σ weight·x·xᵀ over rows, x = (e_first − e_second, features), plus the penalty's
        curvature ``alpha`` (one value, or one per parameter)."""
        m, k = self.m, self.k
        weighted = self.features * weight
        per_pair_weight = np.add.reduceat(weight, self.starts)
        per_pair = np.add.reduceat(weighted, self.starts, axis=1)
        block = np.zeros((m + k, m + k))
        tt = np.bincount(self.pair_first * m + self.pair_second, per_pair_weight, m * m)
        tt = tt.reshape(m, m)
        tt = -(tt + tt.T)
        tt[np.diag_indices(m)] = -tt.sum(axis=1)
        block[:m, :m] = tt
        cross = self._to_models(per_pair)
        block[m:, :m] = cross
        block[:m, m:] = cross.T
        block[m:, m:] = weighted @ self.features.T
        block[np.diag_indices(m + k)] += alpha
        return block


def style_fit(
    votes: StyleVotes,
    *,
    alpha: float = DEFAULT_ALPHA,
    initial: np.ndarray | None = None,
    tol: float = 1e-7,
    max_iter: int = 50,
) -> StyleFit:
    """Contextual Bradley–Terry: P(a beats b) = σ(θa − θb + γ·x), x the scaled style
    differences of the two answers, fitted by damped Newton on the penalised likelihood
    (ties half a win, as in ``fit``; the ridge ``alpha`` on θ, a normal prior of
    STYLE_PRIOR_SD on γ). 95% intervals from the sandwich estimator H⁻¹ J H⁻¹, J summed over
    single votes (so ties and overdispersion are accounted for) plus the penalty's
    curvature. ``initial`` may hold plain strengths (per model) to start from."""
    n = votes.n_models
    totals = votes.totals
    seen = np.zeros(n, dtype=bool)
    seen[votes.first[totals > 0]] = True
    seen[votes.second[totals > 0]] = True
    rated = np.flatnonzero(seen)
    empty = np.full(n, np.nan)
    k = np.asarray(votes.features).shape[-1]
    if rated.size < 2:
        nan_k = np.full(k, np.nan)
        return StyleFit(empty, empty, empty, seen, nan_k, nan_k, nan_k, 0)
    if not np.all(totals > 0):
        keep = totals > 0
        votes = StyleVotes(
            n,
            votes.first[keep],
            votes.second[keep],
            np.asarray(votes.features)[keep],
            votes.wins_first[keep],
            votes.wins_second[keep],
            votes.ties[keep],
        )
    design = _StyleDesign(votes, rated)
    m = design.m
    # The ridge on θ; the prior on γ.
    penalty = np.r_[np.full(m, alpha), np.full(k, 1.0 / STYLE_PRIOR_SD**2)]
    beta = np.zeros(m + k)
    if initial is not None:
        beta[:m] = initial[rated] - initial[rated].mean()
    centre = np.zeros(m + k)
    centre[:m] = 1.0 / math.sqrt(m)
    iterations = 0
    h_inv = None
    for iterations in range(1, max_iter + 1):
        p = _sigmoid(design.eta(beta))
        grad = design.gradient(beta, p, penalty)
        if h_inv is None or iterations <= NEWTON_STEPS:
            # Full Newton for the first steps, then the chord method: the Hessian costs
            # several passes over the rows, the gradient one.
            h = design.information(design.totals * p * (1 - p), penalty)
            h += np.outer(centre, centre)  # fixes the mean of θ without moving the optimum
            h_inv = linalg.inv(h)
        step = h_inv @ grad
        largest = np.abs(step).max()
        if largest > 2.0:
            step *= 2.0 / largest
        beta += step
        if largest < tol:
            break
    p = _sigmoid(design.eta(beta))
    h = design.information(design.totals * p * (1 - p), penalty)
    h += np.outer(centre, centre)
    # Σ over votes of (y − p)²: wins contribute (1 − p)², losses p², ties (½ − p)²; plus the
    # style prior's curvature, as in H. Without it a direction the votes say nothing about (a
    # model's strength against its style, when each model has one answer) would get no
    # width at all: pinned by the prior, not by the votes, yet shown as certain. (Not the
    # ridge on θ: a numerical device for models that never lost, and for boards whose models
    # never met across groups, where the plain intervals are pinned the same way.)
    meat = design.information(
        design.wins_first * (1 - p) ** 2 + design.wins_second * p**2 + design.ties * (0.5 - p) ** 2,
        np.r_[np.zeros(m), penalty[m:]],
    )
    h_inv = linalg.inv(h)
    covariance = h_inv @ meat @ h_inv
    # Ratings are centred: the variance of θi − mean(θ).
    theta_cov = covariance[:m, :m]
    centred_var = (np.diag(theta_cov) - 2 * theta_cov.mean(axis=1) + theta_cov.mean()).clip(min=0)
    theta = beta[:m]
    half = Z_95 * SCALE * np.sqrt(centred_var)
    rating = empty.copy()
    rating[rated] = CENTRE + SCALE * (theta - theta.mean())
    lower, upper = empty.copy(), empty.copy()
    lower[rated] = rating[rated] - half
    upper[rated] = rating[rated] + half
    gamma = np.where(design.usable, beta[m:], np.nan)
    gamma_half = Z_95 * np.sqrt(np.diag(covariance)[m:].clip(min=0))
    return StyleFit(
        rating=rating,
        lower=lower,
        upper=upper,
        rated=seen,
        coefficient=gamma,
        coefficient_lower=gamma - gamma_half,
        coefficient_upper=gamma + gamma_half,
        iterations=iterations,
    )


# --- Rival Score -----------------------------------------------------------------------------

# Credibility n / (n + CREDIBILITY_DUELS): a model with this many duels gets half credit.
CREDIBILITY_DUELS = 100
# Each per-challenge win rate is shrunk towards the model's overall one by this many
# pseudo-duels, so one lucky or unlucky duel on a challenge does not read as inconsistency.
CONSISTENCY_PRIOR_DUELS = 4


@dataclass(frozen=True)
class RivalScore:
    score: np.ndarray  # 0–1000, NaN without duels
    win_rate: np.ndarray
    consistency: np.ndarray
    credibility: np.ndarray
    duels: np.ndarray


def rival_score(
    n_models: int,
    model_a: np.ndarray,
    model_b: np.ndarray,
    challenge: np.ndarray,
    wins_a: np.ndarray,
    wins_b: np.ndarray,
    ties: np.ndarray,
    *,
    credibility_duels: float = CREDIBILITY_DUELS,
    prior_duels: float = CONSISTENCY_PRIOR_DUELS,
) -> RivalScore:
    """Rival Score = 1000 × win rate × consistency × credibility, per model.

    win rate: (wins + ½ ties) / duels. Consistency: 1 − 2·s, s the duel-weighted standard
    deviation of the model's per-challenge win rates (each shrunk towards its overall win
    rate by ``prior_duels``); s is at most ½, so consistency is in [0, 1]. Credibility:
    duels / (duels + ``credibility_duels``)."""
    model_a = np.asarray(model_a, dtype=np.int64)
    model_b = np.asarray(model_b, dtype=np.int64)
    wins_a = np.asarray(wins_a, dtype=np.float64)
    wins_b = np.asarray(wins_b, dtype=np.float64)
    ties = np.asarray(ties, dtype=np.float64)
    _, challenge = np.unique(np.asarray(challenge, dtype=np.int64), return_inverse=True)
    n_challenges = int(challenge.max()) + 1 if challenge.size else 1
    models = np.concatenate([model_a, model_b])
    cell = models * n_challenges + np.concatenate([challenge, challenge])
    duels_cell = np.concatenate([wins_a + wins_b + ties] * 2)
    score_cell = np.concatenate([wins_a + ties / 2, wins_b + ties / 2])
    size = n_models * n_challenges
    duels_mc = np.bincount(cell, duels_cell, size).reshape(n_models, n_challenges)
    score_mc = np.bincount(cell, score_cell, size).reshape(n_models, n_challenges)
    duels = duels_mc.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        win_rate = score_mc.sum(axis=1) / duels
        shrunk = (score_mc + prior_duels * win_rate[:, None]) / (duels_mc + prior_duels)
        spread = np.sqrt((duels_mc * (shrunk - win_rate[:, None]) ** 2).sum(axis=1) / duels)
    consistency = 1 - 2 * spread
    credibility = duels / (duels + credibility_duels)
    score = 1000 * win_rate * consistency * credibility
    return RivalScore(
        score=score,
        win_rate=win_rate,
        consistency=consistency,
        credibility=credibility,
        duels=duels,
    )


# --- robustness ------------------------------------------------------------------------------


def _cells(counts: PairCounts) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every (pair, outcome) cell: pair index, outcome score y (1, 0, ½), votes in it."""
    p = counts.first.size
    pair = np.concatenate([np.arange(p)] * 3)
    y = np.concatenate([np.ones(p), np.zeros(p), np.full(p, 0.5)])
    n = np.concatenate([counts.wins_first, counts.wins_second, counts.ties])
    keep = n > 0
    return pair[keep], y[keep], n[keep], np.flatnonzero(keep)


def _removal_counts(counts: PairCounts, cells, order, n_votes: int) -> PairCounts:
    """The counts with the first ``n_votes`` votes taken out along ``order`` of cells."""
    _, _, n, where = cells
    cumulative = np.cumsum(n[order])
    full = int(np.searchsorted(cumulative, n_votes, side="right"))
    flat = np.concatenate([counts.wins_first, counts.wins_second, counts.ties])
    flat[where[order[:full]]] -= n[order[:full]]  # the cells of an order are distinct
    if full < order.size:
        flat[where[order[full]]] -= n_votes - (cumulative[full - 1] if full else 0)
    p = counts.first.size
    return PairCounts(
        counts.n_models, counts.first, counts.second, flat[:p], flat[p : 2 * p], flat[2 * p :]
    )


def flip_votes(
    counts: PairCounts,
    theta: np.ndarray,
    pairs: np.ndarray,
    *,
    alpha: float = DEFAULT_ALPHA,
    exact: int = 5,
) -> tuple[np.ndarray, np.ndarray]:
    """For each (upper, lower) pair of models, about how many votes must be removed for the
    lower one to rate above the upper one. Returns (votes, exact?) per pair; NaN when
    removing every vote that helps would not do it.

    First order (all pairs): removing one vote v moves θ by −H⁻¹gᵥ (H the information, gᵥ
    the vote's score), so each (pair, outcome) cell has a per-vote effect on the gap; votes
    are taken from the most effective cells until the predicted effects cover the gap.
    For the first ``exact`` pairs, when that estimate is at most EXACT_MAX_VOTES, the count
    is then checked by refitting without those votes and searched up or down (refitting each
    time) to the smallest number that flips the order along that same order of votes."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    result = np.full(len(pairs), np.nan)
    verified = np.zeros(len(pairs), dtype=bool)
    if not len(pairs) or counts.first.size == 0:
        return result, verified
    m = counts.n_models
    cells = _cells(counts)
    pair, y, n, _ = cells
    cell_first, cell_second = counts.first[pair], counts.second[pair]
    per_vote = y - _sigmoid(theta[counts.first] - theta[counts.second])[pair]
    contrast = np.zeros((m, len(pairs)))
    contrast[pairs[:, 0], np.arange(len(pairs))] = 1.0
    contrast[pairs[:, 1], np.arange(len(pairs))] = -1.0
    factor = linalg.cho_factor(_hessian(counts, theta, counts.totals, alpha))
    z = linalg.cho_solve(factor, contrast)
    # The refits below take dozens of steps with this Hessian: a product with its inverse
    # costs a fraction of a triangular solve's checks and calls.
    inverse = linalg.cho_solve(factor, np.eye(m))
    gaps = theta[pairs[:, 0]] - theta[pairs[:, 1]]
    # Cells per model (either side), to look first at the votes of the two models themselves.
    owners = np.concatenate([cell_first, cell_second])
    by_owner = np.argsort(owners, kind="stable")
    owner_cells = np.concatenate([np.arange(n.size)] * 2)[by_owner]
    owner_other = np.concatenate([cell_second, cell_first])[by_owner]
    bounds = np.searchsorted(owners[by_owner], np.arange(m + 1))
    incidence = _incidence(counts)

    def effects(index: int, where) -> np.ndarray:
        column = z[:, index]
        return (column[cell_first[where]] - column[cell_second[where]]) * per_vote[where]

    for index, (upper, lower) in enumerate(pairs):
        gap = gaps[index]
        # The cells of either model, in cell order; the pair's own cells are listed under
        # both models, so the lower model's copy of them is left out.
        of_lower = slice(bounds[lower], bounds[lower + 1])
        own = np.sort(
            np.concatenate(
                [
                    owner_cells[bounds[upper] : bounds[upper + 1]],
                    owner_cells[of_lower][owner_other[of_lower] != upper],
                ]
            )
        )
        effect = effects(index, own)
        helpful = np.flatnonzero(effect > 0)
        ranked = helpful[np.argsort(-effect[helpful], kind="stable")]
        order = own[ranked]
        cover = _votes_to_cover(effect[ranked], n[order], gap)
        # A vote between two other models moves the gap by at most the spread of their z
        # (|y − σ| < 1): when the last cell used beats that, no other cell comes earlier.
        others = np.delete(z[:, index], [upper, lower])
        spread = others.max() - others.min() if others.size else 0.0
        ranking = None
        if cover is None or cover[1] <= spread or (index < exact and cover[0] <= EXACT_MAX_VOTES):
            ranking = _Ranking(effects(index, slice(None)), n)
            cover = ranking.cover(gap)
        if cover is None:
            continue
        estimate = cover[0]
        if index < exact and estimate <= EXACT_MAX_VOTES:
            estimate = _verified_flip(
                counts, cells, ranking, estimate, theta, inverse, upper, lower, alpha, incidence
            )
            verified[index] = estimate is not None
        result[index] = np.nan if estimate is None else estimate
    return result, verified


class _Ranking:
    """Cells that help (effect > 0) by decreasing effect, ties in cell order, with their
    votes: sorted only as far as a caller needs. Flip counts use the first few dozen of
    some hundred thousand cells, so sorting them all cost most of a pair's count."""

    FIRST = 4096  # cells sorted at first; each extension takes eight times as many

    def __init__(self, effect: np.ndarray, n: np.ndarray):
        self.effect, self.n = effect, n
        self.helpful = np.flatnonzero(effect > 0)
        self.available = int(n[self.helpful].sum())
        self._size = 0
        self._order = self.helpful[:0]
        self._votes = 0

    @property
    def complete(self) -> bool:
        return self._order.size == self.helpful.size

    def _extend(self) -> None:
        size = self._size = max(self.FIRST, self._size * 8)
        values = self.effect[self.helpful]
        if size >= self.helpful.size:
            top = self.helpful
        else:
            # Every cell at least as effective as the size-th best, ties included: exactly
            # the first cells of the full stable sort.
            cut = np.partition(values, values.size - size)[values.size - size]
            top = self.helpful[values >= cut]
        self._order = top[np.argsort(-self.effect[top], kind="stable")]
        self._votes = int(self.n[self._order].sum())

    def order(self, votes: int) -> np.ndarray:
        """The first cells of the ranking, holding at least ``votes`` votes (or all)."""
        while not self.complete and (self._size == 0 or self._votes < votes):
            self._extend()
        return self._order

    def cover(self, gap: float) -> tuple[int, float] | None:
        while True:
            order = self.order(0)
            cover = _votes_to_cover(self.effect[order], self.n[order], gap)
            if cover is not None or self.complete:
                return cover
            self._extend()


def _votes_to_cover(effect: np.ndarray, n: np.ndarray, gap: float) -> tuple[int, float] | None:
    """(votes, effect of the last cell drawn on) for cells taken in the given order until
    their summed effects cover the gap; None if all of them do not."""
    covered = np.cumsum(effect * n)
    full = int(np.searchsorted(covered, gap, side="left"))
    if full >= effect.size:
        return None
    before_votes = n[:full].sum()
    before = covered[full - 1] if full else 0.0
    votes = int(before_votes + math.ceil((gap - before) / effect[full] - 1e-12))
    return votes, float(effect[full])


# Flip counts checked by refitting only up to this many votes: beyond, a refit search costs
# tens of refits, and whether the order rests on 300 or 400 votes matters little.
EXACT_MAX_VOTES = 200


def _refit(reduced: PairCounts, theta, inverse, alpha: float, incidence, order) -> bool:
    """Whether, in the fit of slightly reduced counts (the same pairs, so the same
    ``incidence``), the second model of ``order`` (upper, lower) rates above the first:
    chord steps with the full data's Hessian (its ``inverse``: a few cheap products), or full
    Newton when they do not settle.

    From the second step on the steps shrink geometrically (about tenfold each; the first
    ratio is smaller), so once two such steps show a ratio r < ½, what is left of the way is
    about |step|·r/(1 − r) per model, and twice that for the gap between two. When the gap is
    twice that again, its sign is settled: three or four steps instead of seven or eight."""
    upper, lower = order
    score = reduced.wins_first + reduced.ties / 2
    totals = reduced.totals
    refit = theta.copy()
    previous = math.inf
    # Only the order of two models is asked: 1e-7 on the log scale is 4e-6 rating points.
    for iteration in range(40):
        grad = _gradient(refit, reduced.first, reduced.second, score, totals, incidence, alpha)
        step = inverse @ grad
        refit += step
        largest = np.abs(step).max()
        ratio = largest / previous
        gap = refit[lower] - refit[upper]
        if largest < 1e-7 or (
            iteration >= 2 and ratio < 0.5 and abs(gap) > 4 * largest * ratio / (1 - ratio)
        ):
            return bool(gap > 0)
        previous = largest
    refit = fit(reduced, alpha=alpha, initial=theta, tol=1e-7)
    return bool(refit[lower] > refit[upper])


def _verified_flip(
    counts, cells, ranking, estimate, theta, inverse, upper, lower, alpha, incidence
) -> int | None:
    """Smallest k along the ``ranking``'s order whose removal puts ``lower`` above ``upper``
    by refitting (``incidence``: the counts' pairs, as ``_incidence`` builds it)."""
    available = ranking.available

    def flips(k: int) -> bool:
        reduced = _removal_counts(counts, cells, ranking.order(k), k)
        return _refit(reduced, theta, inverse, alpha, incidence, order=(upper, lower))

    k = min(max(estimate, 1), available)
    if flips(k):
        low, high = 0, k  # flips(high) holds; search the smallest below
        step = 1
        while k - step > 0 and flips(k - step):
            high = k - step
            step *= 2
        low = max(0, k - step)
    else:
        low, step = k, 1  # flips(low) fails; gallop upwards
        high = None
        while high is None:
            candidate = min(low + step, available)
            if flips(candidate):
                high = candidate
            elif candidate == available:
                return None
            else:
                low, step = candidate, step * 2
    while high - low > 1:
        middle = (low + high) // 2
        if flips(middle):
            high = middle
        else:
            low = middle
    return high
