"""Snapshots, exclusions, selectors and the leaderboard pages."""

import re

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse

from apps.arena import leaderboard as board
from apps.arena import selectors
from apps.arena.models import Exclusion, LeaderboardSnapshot, ResponseStyle, Vote
from apps.arena.services import leaderboard, votes
from rival.web import visitors
from tests.arena.boards import board_snapshot
from tests.factories import (
    AIModelFactory,
    CategoryFactory,
    ChallengeFactory,
    ResponseFactory,
    votes_between,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_categories():
    """Coding: model 1 beats model 2 mostly. Writing: model 2 beats model 3 mostly."""
    coding = ChallengeFactory(category=CategoryFactory(slug="coding", name="Coding"))
    writing = ChallengeFactory(category=CategoryFactory(slug="writing", name="Writing"))
    m1, m2, m3 = AIModelFactory(), AIModelFactory(), AIModelFactory()
    c1, c2 = (
        ResponseFactory(challenge=coding, model=m1),
        ResponseFactory(challenge=coding, model=m2),
    )
    w2, w3 = (
        ResponseFactory(challenge=writing, model=m2),
        ResponseFactory(challenge=writing, model=m3),
    )
    votes_between(c1, c2, "a" * 30 + "b" * 10 + "t" * 4 + "x" * 2)
    votes_between(w3, w2, "b" * 25 + "a" * 5)
    return {"coding": coding.category, "writing": writing.category, "models": (m1, m2, m3)}


def test_recompute_writes_a_snapshot_overall_and_one_per_category(two_categories):
    m1, m2, m3 = two_categories["models"]

    snapshots = leaderboard.leaderboard_recompute(rounds=100)

    assert len(snapshots) == 3
    overall = selectors.latest_ratings()
    coding = selectors.latest_ratings(two_categories["coding"])
    writing = selectors.latest_ratings(two_categories["writing"])
    assert set(overall) == {m1.pk, m2.pk, m3.pk}
    assert set(coding) == {m1.pk, m2.pk} and set(writing) == {m2.pk, m3.pk}
    assert overall[m1.pk].votes == 46 and overall[m2.pk].votes == 76
    assert coding[m1.pk].rating > coding[m2.pk].rating
    assert writing[m2.pk].rating > writing[m3.pk].rating
    assert overall[m1.pk].lower <= overall[m1.pk].rating <= overall[m1.pk].upper
    by_category = {s.category_id: s.votes_used for s in snapshots}
    assert by_category == {
        None: 76,
        two_categories["coding"].pk: 46,
        two_categories["writing"].pk: 30,
    }


def test_pages_read_the_newest_snapshot(two_categories, client):
    leaderboard.leaderboard_recompute(rounds=20)
    m1 = two_categories["models"][0]
    votes_between(
        ResponseFactory(model=m1), ResponseFactory(model=two_categories["models"][2]), "a" * 50
    )

    leaderboard.leaderboard_recompute(rounds=20)

    assert selectors.latest_ratings()[m1.pk].votes == 96
    assert str(96) in client.get(reverse("arena:leaderboard")).content.decode()


def test_excluding_a_session_stops_its_votes_counting_and_the_page_says_so(two_categories, client):
    m1, m2, _ = two_categories["models"]
    stuffed = votes_between(
        ResponseFactory(model=m2), ResponseFactory(model=m1), "a" * 40, session_key="stuffer"
    )

    exclusion, changed = votes.exclusion_create(
        kind=Exclusion.Kind.SESSION, value="stuffer", reason="40 votes in a minute"
    )
    leaderboard.leaderboard_recompute(rounds=20)

    assert changed == 40
    assert all(not v.is_counted for v in Vote.objects.filter(pk__in=[v.pk for v in stuffed]))
    assert selectors.latest_ratings()[m2.pk].votes == 76
    page = client.get(reverse("arena:leaderboard")).content.decode()
    assert "40 votes excluded" in page
    assert exclusion.votes.count() == 40


def test_excluding_an_ip_hash_also_catches_its_later_votes(challenge_pair, client):
    from django.test import Client

    from tests.arena.test_voting import issued_token, vote

    bad_ip = "192.0.2.66"
    votes.exclusion_create(
        kind=Exclusion.Kind.IP, value=visitors.ip_hash(bad_ip, purpose="arena"), reason="stuffing"
    )

    visitor = Client(REMOTE_ADDR=bad_ip)
    assert vote(visitor, issued_token(visitor)).status_code == 200

    stored = Vote.objects.get()
    assert not stored.is_counted and stored.exclusion.reason == "stuffing"


def test_exclusion_is_idempotent(two_categories):
    votes_between(*ResponseFactory.create_batch(2), "aa", session_key="twice")
    votes.exclusion_create(kind="session", value="twice", reason="first")
    _, changed = votes.exclusion_create(kind="session", value="twice", reason="second")
    assert changed == 0 and Exclusion.objects.get().reason == "first"


def test_head_to_head_counts_votes_from_the_first_models_side(two_categories):
    m1, m2, m3 = two_categories["models"]

    result = selectors.head_to_head(m2, m1)

    assert (result.wins_a, result.wins_b, result.ties, result.both_bad) == (10, 30, 4, 2)
    assert result.total == 46
    assert result.score_a == pytest.approx((10 + 3) / 46)
    assert selectors.head_to_head(m1, m3).total == 0


def test_leaderboard_shows_ranks_intervals_votes_creators_chart_and_heat_map(
    two_categories, client
):
    leaderboard.leaderboard_recompute(rounds=50)
    m1 = two_categories["models"][0]

    page = client.get(reverse("arena:leaderboard"))

    html = page.content.decode()
    assert page.status_code == 200
    assert m1.name in html and m1.provider.name in html
    assert "95% interval" in html and "<svg" in html and 'class="heat"' in html
    assert "from 76 votes" in html and "0 votes excluded" in html
    assert "/methodology/" in html
    row = selectors.latest_ratings()[m1.pk]
    assert f"{row.lower:.0f}–{row.upper:.0f}" in html


def test_models_with_fewer_than_the_minimum_votes_are_provisional_and_never_ranked(
    two_categories, client, settings
):
    settings.ARENA_MIN_VOTES = 50
    leaderboard.leaderboard_recompute(rounds=20)

    rows = selectors.latest_ratings()

    m1, m2, m3 = two_categories["models"]
    assert rows[m1.pk].is_provisional and rows[m3.pk].is_provisional
    assert not rows[m2.pk].is_provisional
    assert rows[m1.pk].rank is None and rows[m3.pk].rank is None and rows[m2.pk].rank == 1
    assert rows[m1.pk].tier is None and rows[m1.pk].flip_votes is None
    body = _board_body(client.get(reverse("arena:leaderboard")))
    # The ranked model comes first; the provisional ones follow without a rank.
    assert body.index(m2.name) < body.index(m1.name) and body.index(m2.name) < body.index(m3.name)
    assert body.count("provisional, not ranked") == 2


def test_leaderboard_filters_by_category_and_creator(two_categories, client):
    leaderboard.leaderboard_recompute(rounds=20)
    m1, m2, m3 = two_categories["models"]

    coding = client.get(reverse("arena:leaderboard"), {"category": "coding"}).content.decode()
    by_creator = client.get(
        reverse("arena:leaderboard"), {"creator": m3.provider.slug}
    ).content.decode()

    assert m1.name in coding and m3.name not in coding
    assert (
        m3.name in by_creator and m1.name not in by_creator.split("<tbody>")[1].split("</tbody>")[0]
    )


def test_an_unknown_category_is_404(client, db):
    assert client.get(reverse("arena:leaderboard"), {"category": "nope"}).status_code == 404
    assert client.get(reverse("arena:best_for", args=["nope"])).status_code == 404


def test_leaderboard_before_any_recompute_says_so(client, db):
    page = client.get(reverse("arena:leaderboard"))
    assert page.status_code == 200
    assert "has not been computed yet" in page.content.decode()


def test_leaderboard_runs_a_constant_number_of_queries(
    two_categories, client, django_assert_max_num_queries
):
    for _ in range(5):
        a, b = ResponseFactory(), ResponseFactory()
        votes_between(a, b, "ab")
    leaderboard.leaderboard_recompute(rounds=10)
    with django_assert_max_num_queries(4):
        client.get(reverse("arena:leaderboard"))


def test_best_for_shows_the_top_models_with_an_example_response(two_categories, client):
    leaderboard.leaderboard_recompute(rounds=20)
    m1, m2, _ = two_categories["models"]

    page = client.get(reverse("arena:best_for", args=["coding"])).content.decode()

    assert "Best for Coding" in page
    assert page.index(m1.name) < page.index(m2.name)
    coding_challenge = two_categories["coding"].challenges.get()
    assert coding_challenge.title in page


def test_recompute_keeps_a_bounded_history_of_snapshots(two_categories):
    for _ in range(leaderboard.SNAPSHOTS_KEPT_PER_CATEGORY + 2):
        leaderboard.leaderboard_recompute(rounds=0)
    assert (
        LeaderboardSnapshot.objects.filter(category__isnull=True).count()
        == leaderboard.SNAPSHOTS_KEPT_PER_CATEGORY
    )


# The rendered board region is cached per (newest snapshot, category, creator filter).


def _without_csrf(page) -> str:
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", page.content.decode())


def _board_body(page) -> str:
    return page.content.decode().split("<tbody>")[1].split("</tbody>")[0]


def test_a_cached_leaderboard_is_byte_identical_to_an_uncached_one(two_categories, client):
    leaderboard.leaderboard_recompute(rounds=20)
    m3 = two_categories["models"][2]
    for params in ({}, {"category": "coding"}, {"creator": m3.provider.slug}):
        with override_settings(
            CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
        ):
            uncached = client.get(reverse("arena:leaderboard"), params)
        first = client.get(reverse("arena:leaderboard"), params)
        cached = client.get(reverse("arena:leaderboard"), params)

        assert 'class="board"' in uncached.content.decode()
        assert _without_csrf(first) == _without_csrf(uncached) == _without_csrf(cached)


def test_a_repeat_leaderboard_request_is_served_from_the_cache(
    two_categories, client, django_assert_max_num_queries
):
    leaderboard.leaderboard_recompute(rounds=10)
    client.get(reverse("arena:leaderboard"))
    # The newest snapshot's id and the category filter options; no rows, no snapshot.
    with django_assert_max_num_queries(2):
        page = client.get(reverse("arena:leaderboard"))
    assert two_categories["models"][0].name in _board_body(page)


def test_the_leaderboard_after_a_recompute_shows_the_new_snapshot(two_categories, client):
    leaderboard.leaderboard_recompute(rounds=20)
    m1, _, m3 = two_categories["models"]
    before = client.get(reverse("arena:leaderboard")).content.decode()
    client.get(reverse("arena:leaderboard"))  # cached now
    newcomer = AIModelFactory()
    votes_between(ResponseFactory(model=m1), ResponseFactory(model=newcomer), "a" * 50)

    leaderboard.leaderboard_recompute(rounds=20)
    after = client.get(reverse("arena:leaderboard"))

    assert "from 76 votes" in before and newcomer.name not in before
    assert "from 126 votes" in after.content.decode()
    assert newcomer.name in _board_body(after)
    assert "from 126 votes" in client.get(reverse("arena:leaderboard")).content.decode()


def test_creator_filters_get_their_own_cached_boards(two_categories, client):
    leaderboard.leaderboard_recompute(rounds=20)
    m1, m2, m3 = two_categories["models"]
    url = reverse("arena:leaderboard")

    for _ in range(2):  # the second round is all cache hits
        everyone = _board_body(client.get(url))
        only_m3 = _board_body(client.get(url, {"creator": m3.provider.slug}))
        only_m1 = _board_body(client.get(url, {"creator": m1.provider.slug}))
        coding = _board_body(client.get(url, {"category": "coding"}))
        coding_m3 = client.get(url, {"category": "coding", "creator": m3.provider.slug})

        assert all(m.name in everyone for m in (m1, m2, m3))
        assert m3.name in only_m3 and m1.name not in only_m3 and m2.name not in only_m3
        assert m1.name in only_m1 and m3.name not in only_m1
        assert m1.name in coding and m2.name in coding and m3.name not in coding
        assert "No rated models from this creator" in coding_m3.content.decode()


def test_unknown_creator_values_are_not_cached(two_categories, client):
    leaderboard.leaderboard_recompute(rounds=10)

    page = client.get(reverse("arena:leaderboard"), {"creator": "no such creator"})

    assert "No rated models from this creator" in page.content.decode()
    plain = board.BoardView()
    key = board._board_key(selectors.latest_snapshot_id(), None, "no such creator", plain)
    assert cache.get(key) is None
    assert cache.get(board._board_key(selectors.latest_snapshot_id(), None, "", plain)) is None
    client.get(reverse("arena:leaderboard"))
    assert cache.get(board._board_key(selectors.latest_snapshot_id(), None, "", plain)) is not None


# Style control, Rival Score, robustness and tiers on the page.


@pytest.fixture
def length_bias(settings):
    """Four models on one challenge; `wordy` writes long, formatted answers and wins most of
    its votes, the others write short ones and split theirs evenly."""
    settings.ARENA_MIN_VOTES = 10
    challenge = ChallengeFactory(category=CategoryFactory(slug="writing", name="Writing"))
    wordy = ResponseFactory(
        challenge=challenge, content="# Answer\n\n" + "- **point** with words\n" * 60
    )
    plain = [ResponseFactory(challenge=challenge, content="A short answer.") for _ in range(3)]
    for other in plain:
        votes_between(wordy, other, "a" * 24 + "b" * 6)
    for i, a in enumerate(plain):
        for b in plain[i + 1 :]:
            votes_between(a, b, "ab" * 10 + "t" * 4)
    return wordy.model, [r.model for r in plain]


def test_recompute_measures_each_response_once_and_stores_style_controlled_ratings(length_bias):
    wordy, others = length_bias

    leaderboard.leaderboard_recompute(rounds=20)

    assert ResponseStyle.objects.count() == 4
    assert leaderboard.response_styles_fill() == 0  # already measured
    style = ResponseStyle.objects.get(response__model=wordy)
    assert (style.headers, style.list_items, style.bold) == (1, 60, 60)
    rows = {r.model_id: r for r in selectors.latest_rows()}
    assert all(r.style_rating is not None and r.style_lower < r.style_upper for r in rows.values())
    assert all(r.rival_score is not None and 0 <= r.rival_score <= 1000 for r in rows.values())
    assert rows[wordy.pk].rank == 1 and rows[wordy.pk].tier == 1
    assert rows[wordy.pk].flip_votes >= 1 and rows[wordy.pk].flip_exact
    coefficients = selectors.latest_snapshot().style_coefficients
    assert [c["feature"] for c in coefficients] == ["length", "headers", "lists", "bold"]


def test_the_style_control_toggle_is_a_link_and_switches_the_ratings(length_bias, client):
    wordy, _ = length_bias
    leaderboard.leaderboard_recompute(rounds=20)
    row = selectors.latest_rows().get(model=wordy)
    url = reverse("arena:leaderboard")

    plain = client.get(url).content.decode()
    styled = client.get(url, {"style": "1"}).content.decode()

    assert 'href="?style=1"' in plain and "Style control on" in styled
    for column in ("Tier", "Δ rank with style control", "Rival Score", "Order flips with"):
        assert column in plain and column in styled
    assert f"{row.lower:.0f}–{row.upper:.0f}" in _board_body_text(plain)
    assert f"{row.style_lower:.0f}–{row.style_upper:.0f}" in _board_body_text(styled)
    assert f"~{row.flip_votes} vote" in plain


def test_the_board_sorts_by_rival_score_through_a_link(length_bias, client):
    leaderboard.leaderboard_recompute(rounds=20)
    rows = sorted(selectors.latest_rows(), key=lambda r: -r.rival_score)

    page = client.get(reverse("arena:leaderboard"), {"sort": "score"}).content.decode()

    body = _board_body_text(page)
    positions = [body.index(r.model.name) for r in rows]
    assert positions == sorted(positions)
    assert 'aria-sort="descending"' in page and 'href="?sort=score"' in page


def test_every_view_of_the_board_runs_a_constant_number_of_queries(
    length_bias, client, django_assert_max_num_queries
):
    leaderboard.leaderboard_recompute(rounds=10)
    for params in ({}, {"style": "1"}, {"all": "1", "sort": "score"}, {"style": "1", "all": "1"}):
        with django_assert_max_num_queries(4):
            client.get(reverse("arena:leaderboard"), params)


def test_the_pairwise_page_lists_one_models_results_against_every_opponent(
    length_bias, client, django_assert_max_num_queries
):
    wordy, others = length_bias
    leaderboard.leaderboard_recompute(rounds=10)

    # The snapshot's rows and the model's grouped votes, whatever the number of opponents.
    with django_assert_max_num_queries(3):
        page = client.get(reverse("arena:leaderboard"), {"pairs": "1", "model": wordy.slug})

    html = page.content.decode()
    assert page.status_code == 200
    assert all(m.name in html for m in others)
    assert "<td>30</td><td>24</td><td>6</td>" in re.sub(r">\s+<", "><", html)
    assert "?pairs=1" in client.get(reverse("arena:leaderboard")).content.decode()


def _board_body_text(html: str) -> str:
    return html.split("<tbody>")[1].split("</tbody>")[0]


@pytest.fixture
def three_hundred_models():
    return board_snapshot(300)


def test_at_300_models_the_page_shows_the_chart_first_the_top_50_and_stays_under_80_kb(
    three_hundred_models, client
):
    page = client.get(reverse("arena:leaderboard"))
    everything = client.get(reverse("arena:leaderboard"), {"all": "1"})

    html = page.content.decode()
    assert len(page.content) < 80_000, len(page.content)
    assert html.index("<svg") < html.index('class="board"')
    assert _board_body_text(html).count("<tr") == 50
    assert 'href="?all=1"' in html and "Show all 300 models" in html
    assert _board_body_text(everything.content.decode()).count("<tr") == 300
    assert "Tier 1" in html and "Rating (Elo scale" in html
    assert html.count('<td class="heat-') == 20 * 20


def test_the_methodology_page_shows_the_fitted_style_coefficients_and_the_threshold(
    length_bias, client, settings
):
    leaderboard.leaderboard_recompute(rounds=10)
    settings.ARENA_MIN_VOTES = 250
    length = selectors.latest_style_coefficients().coefficients[0]

    html = client.get(reverse("pages:methodology")).content.decode()

    assert "Fitted style coefficients" in html and f"{length.estimate:.3f}" in html
    assert "once it has 250 counted votes" in html
    assert "Rival Score = 1000 × win rate × consistency × credibility" in html
