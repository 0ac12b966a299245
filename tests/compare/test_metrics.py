from datetime import UTC, datetime

from apps.arena.selectors import RatingRow
from apps.compare.metrics import cells, mark_best, rating_cells


def rating(value, lower, upper, votes=500, provisional=False):
    return RatingRow(
        model_id=0,
        rank=1,
        rating=value,
        lower=lower,
        upper=upper,
        votes=votes,
        win_rate=0.5,
        is_provisional=provisional,
        computed_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


class _Model:
    def __init__(self, id):
        self.id = id


def test_the_single_lowest_value_is_marked_when_lower_is_better():
    assert mark_best([3, 1, 2], prefer="low") == [False, True, False]


def test_a_tie_for_best_marks_nothing():
    assert mark_best([1, 1, 2], prefer="low") == [False, False, False]


def test_a_missing_value_is_never_best_and_one_value_alone_is_not_marked():
    assert mark_best([None, 5, 9], prefer="high") == [False, False, True]
    assert mark_best([None, 5], prefer="high") == [False, False]


def test_marks_use_comparatives_for_two_and_superlatives_for_more():
    two = cells([1, 2], ["1", "2"], prefer="low", notes=("faster", "fastest"))
    three = cells([1, 2, 3], ["1", "2", "3"], prefer="low", notes=("faster", "fastest"))
    assert two[0].note == "faster" and three[0].note == "fastest"


def test_a_rating_is_marked_higher_only_when_its_interval_clears_the_other():
    models = [_Model(1), _Model(2)]
    clear = {1: rating(1100, 1080, 1120), 2: rating(1000, 980, 1020)}
    overlap = {1: rating(1030, 1000, 1060), 2: rating(1000, 970, 1030)}
    assert [c.best for c in rating_cells(models, clear)] == [True, False]
    assert [c.best for c in rating_cells(models, overlap)] == [False, False]
    assert rating_cells(models, clear)[0].display == "1100 ± 20"


def test_a_model_without_a_rating_says_so():
    assert rating_cells([_Model(1), _Model(2)], {})[0].display == "no rating yet"


def test_a_provisional_rating_says_so_with_its_vote_count():
    ratings = {1: rating(1040, 900, 1180, votes=12, provisional=True)}
    cell = rating_cells([_Model(1), _Model(2)], ratings)[0]
    assert cell.display == "1040 ± 140 (provisional, 12 votes)"
