"""One leaderboard board's numbers from its tally rows: pure numpy, no Django, so that
boards can be computed in worker processes.

`leaderboard_recompute` computes seven boards (overall, each category, verified voters).
In threads they serialise on the GIL between numpy's calls: two threads measured 1.3-1.4
times one, two processes nearly twice. So large boards go to a pool of worker processes,
started once per process from a forkserver (a clean process that forks them: never the
Celery worker itself, whose threads may hold locks). As multiprocessing does, each of them
imports the starting program's main module: a script that recomputes must guard its entry
point with ``if __name__ == "__main__"`` (Celery, gunicorn, pytest and manage.py do).
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, fields

import numpy as np

from apps.arena import ratings

WIN_MATRIX_SIZE = 20
# Adjacent pairs at the top of a board whose flip count is checked by refitting.
FLIP_EXACT_TOP = 10
COLUMNS = 10


@dataclass(frozen=True)
class AggregatedVotes:
    """Counted votes per (category, challenge, model A, model B, response A, response B,
    verified) as numpy columns: per pair of answers, so style features and per-challenge
    results can be derived from the same rows. Category 0: votes without one."""

    category: np.ndarray
    challenge: np.ndarray
    model_a: np.ndarray
    model_b: np.ndarray
    response_a: np.ndarray
    response_b: np.ndarray
    verified: np.ndarray
    wins_a: np.ndarray
    wins_b: np.ndarray
    ties: np.ndarray

    @classmethod
    def from_table(cls, table: np.ndarray) -> AggregatedVotes:
        return cls(*(table[:, i] for i in range(COLUMNS)))

    @classmethod
    def concatenate(cls, parts: list[AggregatedVotes]) -> AggregatedVotes:
        if not parts:
            return cls.from_table(np.zeros((0, COLUMNS), dtype=np.int64))
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)))

    def where(self, mask: np.ndarray) -> AggregatedVotes:
        return type(self)(*(getattr(self, f.name)[mask] for f in fields(self)))

    def merged(self) -> AggregatedVotes:
        """One row per unordered pair of answers, seen from the answer with the smaller id:
        a pair's rows as either side was shown, verified or not, summed. Every number of a
        board follows from the pairs' counts, whichever side a vote was cast on, so a board
        of merged rows is the same board (tests) with two to four times fewer rows. Only for
        rows of one category: the answers are the key. A merged row counts as verified when
        all of its rows did."""
        if not self.wins_a.size:
            return self
        swap = self.response_a > self.response_b
        low = np.where(swap, self.response_b, self.response_a)
        high = np.where(swap, self.response_a, self.response_b)
        if low.min() >= 0 and high.max() < 2**31:
            key = low << 32 | high
        else:  # ids beyond 31 bits: never seen in practice
            key = np.unique(np.stack([low, high], axis=1), axis=0, return_inverse=True)[1]
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)

        def summed(values: np.ndarray) -> np.ndarray:
            return np.bincount(inverse, values).astype(np.int64)

        rows = np.bincount(inverse)
        return AggregatedVotes(
            category=self.category[first],
            challenge=self.challenge[first],
            model_a=np.where(swap, self.model_b, self.model_a)[first],
            model_b=np.where(swap, self.model_a, self.model_b)[first],
            response_a=low[first],
            response_b=high[first],
            verified=(summed(self.verified) == rows).astype(np.int64),
            wins_a=summed(np.where(swap, self.wins_b, self.wins_a)),
            wins_b=summed(np.where(swap, self.wins_a, self.wins_b)),
            ties=summed(self.ties),
        )


@dataclass(frozen=True)
class Rows:
    """One board's tally rows, compact (this is what goes to a board process): per row the
    two models, the challenge, the counts, and the positions of its two answers in
    ``styles``, the style counts per answer (whose last row is zeros: an answer without
    stored counts points there)."""

    model_a: np.ndarray
    model_b: np.ndarray
    challenge: np.ndarray
    wins_a: np.ndarray
    wins_b: np.ndarray
    ties: np.ndarray
    answer_a: np.ndarray
    answer_b: np.ndarray
    styles: np.ndarray

    @property
    def size(self) -> int:
        return self.wins_a.size

    @classmethod
    def concatenate(cls, parts: list[Rows], styles: np.ndarray) -> Rows:
        if not parts:
            empty = np.zeros(0, dtype=np.int32)
            return cls(*[empty] * 8, styles)
        columns = [f.name for f in fields(cls) if f.name != "styles"]
        return cls(
            *(np.concatenate([getattr(part, name) for part in parts]) for name in columns),
            styles,
        )

    def where(self, mask: np.ndarray) -> Rows:
        columns = [f.name for f in fields(self) if f.name != "styles"]
        return type(self)(*(getattr(self, name)[mask] for name in columns), self.styles)

    def features(self) -> np.ndarray:
        """Style differences of side A (rows × features)."""
        return ratings.style_differences(self.styles[self.answer_a], self.styles[self.answer_b])


def narrow(ids: np.ndarray) -> np.ndarray:
    """Integers as int32 where they fit (they always do in practice): less to send."""
    if ids.size == 0 or (ids.min() >= -(2**31) and ids.max() < 2**31):
        return ids.astype(np.int32)
    return ids


@dataclass(frozen=True)
class Board:
    """Everything a snapshot of one category is computed from, as model-index arrays into
    ``model_ids`` (the models with a vote on this board)."""

    model_ids: np.ndarray
    index_a: np.ndarray
    index_b: np.ndarray
    challenge: np.ndarray
    features: np.ndarray  # style differences of side A (rows × features)
    wins_a: np.ndarray
    wins_b: np.ndarray
    ties: np.ndarray

    @classmethod
    def of(cls, rows: Rows) -> Board:
        model_ids = np.unique(np.concatenate([rows.model_a, rows.model_b]))
        return cls(
            model_ids,
            np.searchsorted(model_ids, rows.model_a),
            np.searchsorted(model_ids, rows.model_b),
            rows.challenge,
            rows.features(),
            rows.wins_a,
            rows.wins_b,
            rows.ties,
        )

    @property
    def n_models(self) -> int:
        return self.model_ids.size

    def counts(self) -> ratings.PairCounts:
        return ratings.PairCounts.from_rows(
            self.n_models, self.index_a, self.index_b, self.wins_a, self.wins_b, self.ties
        )

    def style_votes(self) -> ratings.StyleVotes:
        return ratings.StyleVotes(
            self.n_models,
            self.index_a,
            self.index_b,
            self.features,
            self.wins_a,
            self.wins_b,
            self.ties,
        )

    def rival_score(self) -> ratings.RivalScore:
        return ratings.rival_score(
            self.n_models,
            self.index_a,
            self.index_b,
            self.challenge,
            self.wins_a,
            self.wins_b,
            self.ties,
        )


@dataclass(frozen=True)
class Computed:
    """One board's numbers, before anything is written."""

    model_ids: np.ndarray
    counts: ratings.PairCounts
    result: ratings.Ratings
    style: ratings.StyleFit
    style_rank: np.ndarray
    tier: np.ndarray
    style_tier: np.ndarray
    score: ratings.RivalScore
    flip_of: dict
    top: np.ndarray
    matrix: np.ndarray
    seconds: float


def compute(rows: Rows, *, rounds: int, seed: int, min_votes: int) -> Computed:
    """Everything a snapshot shows, from one board's rows."""
    started = time.perf_counter()
    board = Board.of(rows)
    counts = board.counts()
    # One thread per board: boards already run two at a time.
    result = ratings.rate(counts, rounds=rounds, seed=seed, min_votes=min_votes, workers=1)
    ranked = result.rank > 0
    style = ratings.style_fit(board.style_votes(), initial=result.theta)
    style_rank = np.zeros(counts.n_models, dtype=np.int64)
    if ranked.any():
        style_rank[ranked] = ratings.ranks_from_intervals(style.lower[ranked], style.upper[ranked])
    tier = ratings.tiers(result.rating, result.lower, result.upper, ranked)
    style_tier = ratings.tiers(style.rating, style.lower, style.upper, ranked)
    score = board.rival_score()
    order = ratings.board_order(result.rating, ranked)
    flips, exact = ratings.flip_votes(
        counts, result.theta, np.stack([order[:-1], order[1:]], axis=1), exact=FLIP_EXACT_TOP
    )
    flip_of = dict(
        zip(order[:-1].tolist(), zip(flips.tolist(), exact.tolist(), strict=True), strict=True)
    )
    rated = np.flatnonzero(result.rated)
    top = rated[np.argsort(-result.rating[rated], kind="stable")][:WIN_MATRIX_SIZE]
    matrix = ratings.win_rate_matrix(counts, top)
    return Computed(
        model_ids=board.model_ids,
        counts=counts,
        result=result,
        style=style,
        style_rank=style_rank,
        tier=tier,
        style_tier=style_tier,
        score=score,
        flip_of=flip_of,
        top=top,
        matrix=matrix,
        seconds=time.perf_counter() - started,
    )


_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def processes(count: int) -> ProcessPoolExecutor:
    """The pool of ``count`` worker processes boards are computed in: started on first use
    and kept for the life of this process (a recompute every few minutes reuses it)."""
    global _pool
    with _pool_lock:
        if _pool is None or _pool._max_workers != count:
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            _pool = ProcessPoolExecutor(max_workers=count, mp_context=context)
        return _pool


def processes_reset() -> None:
    """Forget the pool if one of its processes died (out of memory, killed): the next use
    starts a new one."""
    global _pool
    with _pool_lock:
        if _pool is not None and _pool._broken:
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None


def processes_warm(count: int) -> None:
    """Start the pool and its processes now rather than in the first recompute (the
    benchmark does, before timing: a worker pays this once, 2-5 s here)."""
    pool = processes(count)
    for future in [pool.submit(int) for _ in range(count)]:
        future.result()


def processes_pids() -> list[int]:
    """The board processes running now (for benchmarks that count their CPU time)."""
    with _pool_lock:
        return list(_pool._processes or {}) if _pool is not None else []
