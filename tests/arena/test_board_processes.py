"""The recompute's large boards in worker processes: the same snapshots as in threads, and
a recompute that survives a board process dying."""

import os
import signal

import pytest
from django.test import override_settings

from apps.arena import boards
from apps.arena.models import LeaderboardRow
from apps.arena.services import leaderboard
from tests.factories import (
    AIModelFactory,
    CategoryFactory,
    ChallengeFactory,
    ResponseFactory,
    votes_between,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def arena():
    """Two categories, four models, a few hundred votes with ties and both-bad."""
    models = [AIModelFactory() for _ in range(4)]
    for slug in ("coding", "writing"):
        challenge = ChallengeFactory(category=CategoryFactory(slug=slug, name=slug.title()))
        answers = [ResponseFactory(challenge=challenge, model=model) for model in models]
        for i, first in enumerate(answers):
            for j, second in enumerate(answers[i + 1 :], start=i + 1):
                votes_between(first, second, "a" * (8 + 3 * j) + "b" * (4 + i) + "t" * 2 + "x")


def rows_of(snapshots) -> list[tuple]:
    """What a page shows of each board, in the order the recompute returns them."""
    fields = ("model_id", "rank", "rating", "lower", "upper", "votes", "style_rating")
    fields += ("style_lower", "style_upper", "rival_score", "flip_votes", "flip_exact")
    return [
        (s.category_id, s.voters, s.votes_used, s.rounds, s.win_matrix, s.style_coefficients)
        + tuple(LeaderboardRow.objects.filter(snapshot=s).order_by("model_id").values_list(*fields))
        for s in snapshots
    ]


def test_boards_computed_in_processes_equal_those_computed_in_threads(arena):
    with override_settings(ARENA_BOARD_PROCESSES=0):
        in_threads = rows_of(leaderboard.leaderboard_recompute(rounds=200, seed=3))
    with override_settings(ARENA_BOARD_PROCESSES=2, ARENA_BOARD_PROCESS_ROWS=0):
        in_processes = rows_of(leaderboard.leaderboard_recompute(rounds=200, seed=3))
        assert len(boards.processes_pids()) == 2  # they did run there

    assert in_processes == in_threads
    assert len(in_threads) == 4  # overall, two categories, verified voters


def test_a_recompute_survives_a_board_process_dying_and_the_next_one_starts_new_ones(arena):
    with override_settings(ARENA_BOARD_PROCESSES=2, ARENA_BOARD_PROCESS_ROWS=0):
        expected = rows_of(leaderboard.leaderboard_recompute(rounds=200, seed=3))
        killed = boards.processes_pids()
        for pid in killed:
            os.kill(pid, signal.SIGKILL)

        after_kill = rows_of(leaderboard.leaderboard_recompute(rounds=200, seed=3))
        again = rows_of(leaderboard.leaderboard_recompute(rounds=200, seed=3))

        assert after_kill == expected and again == expected
        assert boards.processes_pids() and not set(boards.processes_pids()) & set(killed)
