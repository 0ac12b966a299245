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
fit. Rounds that do not settle that way are refitted one by one with full Newton.
"""

from __future__ import annotations

import math
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

    Models without any vote have ``rated == False`` and NaN rating and bounds.
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
    h = np.zeros((m, m))
    np.add.at(h, (counts.first, counts.second), -v)
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
    diff = np.take(theta, first, axis=-1) - np.take(theta, second, axis=-1)
    residual = score - totals * _sigmoid(diff)
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


class _MultinomialSampler:
    """Exact multinomial resampling of integer cell counts, fast for many small cells.

    numpy's multinomial draws one conditional binomial per cell, which is slow when there are
    a hundred thousand cells. Instead: draw independent Poisson(c·s/N) per cell with s a bit
    below N (by inverse-CDF tables, one per distinct small count c), reject the round in the
    rare case the total exceeds N, and top the total up to N with N − S categorical draws.
    Given their total S, independent Poissons are multinomial(S, c/N); adding an independent
    multinomial(N − S, c/N) gives exactly multinomial(N, c/N).
    """

    TABLE_MAX = 64  # counts above this use numpy's Poisson sampler directly
    GUIDE_BITS = 10
    ONE = 1 << 31  # draws are 31-bit integers; CDFs are scaled to match

    def __init__(self, cells: np.ndarray):
        self.cells = cells.astype(np.int64)
        self.n = int(self.cells.sum())
        self.cumulative = np.cumsum(self.cells)
        self.s = max(0.0, self.n - 4.0 * math.sqrt(self.n) - 4.0)
        ratio = self.s / self.n if self.n else 0.0
        # Zero cells stay zero; only the others are drawn.
        small = (self.cells > 0) & (self.cells <= self.TABLE_MAX)
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
        self.cdf = np.concatenate(cdfs).astype(np.uint32)
        # (k, threshold) pairs packed into one 64-bit word: one gather per draw.
        self.guide = np.ascontiguousarray(np.concatenate(guides).astype(np.uint32)).view(np.uint64)
        self.guide = self.guide.reshape(-1)
        position = np.searchsorted(values, self.cells[self.small_index])
        self.guide_base = (position * guide_size).astype(np.int32)
        self.cdf_base = np.asarray(offsets, dtype=np.int64)[position]

    def draw(self, rng: np.random.Generator, rounds: int) -> np.ndarray:
        """``rounds`` resamples as float32 (exact integers), rounds × cells."""
        out = np.zeros((rounds, self.cells.size), dtype=np.float32)
        if self.n == 0:
            return out
        done = 0
        while done < rounds:
            block = out[done:]
            self._poisson_into(rng, block)
            totals = block.sum(axis=1, dtype=np.float64)
            ok = totals <= self.n
            # Keep accepted rounds in order; redraw from the first (very rare) rejected one.
            accepted = ok.size if ok.all() else int(np.argmin(ok))
            for r in range(accepted):
                self._top_up(rng, block[r], self.n - int(totals[r]))
            done += accepted
        return out

    def _poisson_into(self, rng: np.random.Generator, block: np.ndarray) -> None:
        rounds, size = block.shape[0], self.small_index.size
        words = rng.bit_generator.random_raw((rounds * size + 1) // 2)
        draws = (words.view(np.uint32)[: rounds * size] >> 1).reshape(rounds, size)
        bins = (draws >> (31 - self.GUIDE_BITS)).astype(np.int32)
        bins += self.guide_base
        entry = self.guide[bins].view(np.uint32).reshape(rounds, size, 2)
        value = entry[..., 0]
        walk = np.flatnonzero(draws >= entry[..., 1])
        if walk.size:
            value = value.copy()
            flat_value, flat_draws = value.reshape(-1), draws.reshape(-1)
            base = self.cdf_base[walk % size]
            while walk.size:
                flat_value[walk] += 1
                more = flat_draws[walk] >= self.cdf[base + flat_value[walk]]
                walk, base = walk[more], base[more]
        if self.all_small:
            block[:] = value
        else:
            block[:, self.small_index] = value
            block[:, self.large_index] = rng.poisson(
                self.large_rates, size=(rounds, self.large_index.size)
            )

    def _top_up(self, rng: np.random.Generator, row: np.ndarray, missing: int) -> None:
        picks = rng.integers(0, self.n, size=missing)
        cells = np.searchsorted(self.cumulative, picks, side="right")
        row += np.bincount(cells, minlength=row.size)


def bootstrap(
    counts: PairCounts,
    *,
    rounds: int = DEFAULT_ROUNDS,
    seed: int = DEFAULT_SEED,
    alpha: float = DEFAULT_ALPHA,
    theta_hat: np.ndarray | None = None,
    workers: int = 2,
    tol: float = 1e-4,
    max_chord_iter: int = 25,
) -> np.ndarray:
    """θ refitted on ``rounds`` multinomial resamples of the counts: (rounds × models).

    Deterministic for a seed: rounds are drawn in fixed chunks, each from its own child of
    the seed, so the result does not depend on ``workers`` (threads; numpy releases the GIL).
    Each round is iterated until its last Newton step is below ``tol`` (natural-log scale),
    which leaves it within about 1e-5 of its exact refit — a thousandth of a rating point.
    """
    if theta_hat is None:
        theta_hat = fit(counts, alpha=alpha)
    result = np.tile(theta_hat, (rounds, 1))
    if counts.first.size == 0 or rounds == 0:
        return result
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
        result[start:stop] = shared.refit(np.random.default_rng(seeds[index]), stop - start)

    if workers > 1 and len(starts) > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(run, range(len(starts))))
    else:
        for index in range(len(starts)):
            run(index)
    return result


CHUNK_ROUNDS = 50


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

    def refit(self, rng: np.random.Generator, rounds: int) -> np.ndarray:
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
        theta = self.theta_hat + grad @ self.inverse
        active = np.arange(rounds)
        for _ in range(self.max_chord_iter):
            grad = _gradient(
                theta[active].astype(np.float32),
                first,
                second,
                score[active],
                totals[active],
                self.incidence,
                alpha,
            )
            step = grad.astype(np.float64) @ self.inverse
            theta[active] += step
            active = active[np.abs(step).max(axis=1) >= self.tol]
            if active.size == 0:
                break
        for r in active:
            # Far from the full-data fit the shared Hessian is a poor guide: full Newton.
            one = PairCounts(counts.n_models, first, second, w1[r], w2[r], t[r])
            theta[r] = fit(one, alpha=alpha, initial=self.theta_hat)
        return theta


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
) -> Ratings:
    """Ratings, 95% bootstrap intervals and interval ranks for every model with a vote."""
    votes = counts.votes_per_model()
    rated = votes > 0
    theta_hat = fit(counts, alpha=alpha)
    rating = to_scale(theta_hat, rated) if rated.any() else np.full(counts.n_models, np.nan)
    if rounds > 0 and rated.any():
        samples = to_scale(
            bootstrap(counts, rounds=rounds, seed=seed, alpha=alpha, theta_hat=theta_hat), rated
        )
        lower, upper = np.percentile(samples, [2.5, 97.5], axis=0)
    else:
        lower, upper = rating.copy(), rating.copy()
    rating = np.where(rated, rating, np.nan)
    lower = np.where(rated, lower, np.nan)
    upper = np.where(rated, upper, np.nan)
    rank = np.zeros(counts.n_models, dtype=np.int64)
    if rated.any():
        rank[rated] = ranks_from_intervals(lower[rated], upper[rated])
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
