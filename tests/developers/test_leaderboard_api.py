"""The leaderboard through the API as the page shows it: plain and style-controlled, every
voter's or verified voters' board, by rank or by Rival Score."""

import pytest

from apps.arena.models import Vote
from apps.arena.services import leaderboard as arena_leaderboard
from apps.developers import schemas
from tests.arena.test_leaderboard import length_bias  # noqa: F401  (fixture)

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
STANDING = ("rank", "tier", "rating", "lower", "upper", "interval")


def board(client, **params):
    answer = client.get("/api/v1/leaderboard", params)
    assert answer.status_code == 200, answer.content
    return answer.json()


def headline(row) -> dict:
    return {name: row[name] for name in STANDING}


def in_board_order(rows) -> bool:
    keys = [(row["rank"] is None, -row["rating"]) for row in rows]
    return keys == sorted(keys)


def test_every_row_carries_plain_and_style_controlled_standing(client, length_bias):  # noqa: F811
    wordy, _ = length_bias
    arena_leaderboard.leaderboard_recompute(rounds=20)

    plain = board(client)

    assert plain["style_control"] is False and plain["voters"] == "all"
    assert [c["feature"] for c in plain["style_coefficients"]] == [
        "length",
        "headers",
        "lists",
        "bold",
    ]
    rows = {row["model"]["slug"]: row for row in plain["rows"]}
    top = rows[wordy.slug]
    assert top["rank"] == 1 and top["tier"] == 1
    assert headline(top) == top["plain"]
    # One answer per model: style cannot move the ratings here, only widen the intervals.
    assert top["style_controlled"]["interval"] > top["plain"]["interval"]
    assert top["flip_votes"] >= 1 and top["flip_exact"] is True
    assert all(0 <= row["rival_score"] <= 1000 for row in plain["rows"])
    assert in_board_order(plain["rows"])


def test_style_control_puts_the_style_controlled_figures_in_the_headline(
    client,
    length_bias,  # noqa: F811
):
    wordy, _ = length_bias
    arena_leaderboard.leaderboard_recompute(rounds=20)

    styled = board(client, style_control="true")

    assert styled["style_control"] is True
    for row in styled["rows"]:
        assert headline(row) == row["style_controlled"]
        assert row["plain"]["interval"] != row["style_controlled"]["interval"]
    assert in_board_order(styled["rows"])
    # The same rows as the plain board, only their headline and order differ.
    plain = board(client)
    assert sorted(r["model"]["slug"] for r in styled["rows"]) == sorted(
        r["model"]["slug"] for r in plain["rows"]
    )


def test_sort_by_rival_score(client, length_bias):  # noqa: F811
    arena_leaderboard.leaderboard_recompute(rounds=20)

    scores = [row["rival_score"] for row in board(client, sort="score")["rows"]]

    assert scores == sorted(scores, reverse=True)


def test_verified_voters_board_counts_only_their_votes(client, length_bias):  # noqa: F811
    wordy, _ = length_bias
    verified = list(Vote.objects.filter(model_a=wordy).order_by("pk")[:20])
    Vote.objects.filter(pk__in=[v.pk for v in verified]).update(is_verified=True)
    arena_leaderboard.leaderboard_recompute(rounds=20)

    everyone = board(client)
    theirs = board(client, voters="verified")

    assert theirs["voters"] == "verified" and theirs["category"] is None
    assert theirs["snapshot_id"] != everyone["snapshot_id"]
    # Each vote counts for both of its models.
    assert sum(row["votes"] for row in theirs["rows"]) == 2 * len(verified)
    assert sum(row["votes"] for row in everyone["rows"]) == 2 * Vote.objects.count()


def test_verified_voters_board_is_overall_only(client, length_bias):  # noqa: F811
    arena_leaderboard.leaderboard_recompute(rounds=20)

    answer = client.get("/api/v1/leaderboard", {"voters": "verified", "category": "writing"})

    assert answer.status_code == 400 and answer["Content-Type"] == PROBLEM
    assert answer.json()["errors"][0]["loc"] == ["query", "voters"]


def test_snapshot_detail_carries_both_standings_and_whose_votes(client, length_bias):  # noqa: F811
    arena_leaderboard.leaderboard_recompute(rounds=20)
    history = client.get("/api/v1/leaderboard/snapshots").json()["items"]

    detail = client.get(f"/api/v1/leaderboard/snapshots/{history[0]['id']}").json()

    assert detail["voters"] == "all" and len(detail["style_coefficients"]) == 4
    assert all(row["style_controlled"] is not None for row in detail["rows"])


def test_the_board_built_without_validation_is_its_documented_schema(client, length_bias):  # noqa: F811
    arena_leaderboard.leaderboard_recompute(rounds=20)

    body = board(client, style_control="true")

    parsed = schemas.Leaderboard.model_validate(body)
    assert list(body) == list(schemas.Leaderboard.model_fields)
    assert list(body["rows"][0]) == list(schemas.LeaderboardRow.model_fields)
    assert parsed.model_dump(mode="json", exclude={"computed_at"}) == {
        name: value for name, value in body.items() if name != "computed_at"
    }
    # Written as every other timestamp of the API (the snapshots list's).
    history = client.get("/api/v1/leaderboard/snapshots").json()["items"]
    assert (
        body["computed_at"]
        == next(s for s in history if s["id"] == body["snapshot_id"])["computed_at"]
    )
