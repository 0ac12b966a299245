from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.arena.models import LeaderboardRow, LeaderboardSnapshot
from apps.catalog.models import AIModel, Provider
from rival.sqlrows import (
    MARK_ID,
    MARK_OTHER_TEXT,
    MARK_TEXT,
    Columns,
    Prepared,
    column,
    insert,
    insert_values,
    table,
)
from tests.factories import AIModelFactory, ProviderFactory

pytestmark = pytest.mark.django_db


def read(sql: str, params=()) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def test_named_fields_in_any_order_make_the_instance_the_orm_would():
    made = AIModelFactory(slug="alpha", price_input_per_mtok=Decimal("1.2500"))
    # Out of the model's field order, names and attnames mixed.
    model = Columns.of(AIModel, "m", ("price_input_per_mtok", "slug", "provider_id", "id"))
    row = read(f"SELECT {model.select} FROM {table(AIModel)} m WHERE m.id = %s", [made.pk])

    built = model.build(row)

    orm = AIModel.objects.only("price_input_per_mtok", "slug", "provider").get(pk=made.pk)
    assert (built.pk, built.slug, built.provider_id) == (orm.pk, orm.slug, orm.provider_id)
    assert built.price_input_per_mtok == orm.price_input_per_mtok == Decimal("1.2500")
    assert isinstance(built.price_input_per_mtok, Decimal)
    # Every other field is deferred, as with .only(): read on access.
    assert built.get_deferred_fields() == orm.get_deferred_fields()
    assert built.name == made.name


def test_every_field_and_the_next_values_of_a_longer_row():
    made = AIModelFactory(slug="bravo")
    models, creators = Columns.of(AIModel, "m"), Columns.of(Provider, "p")
    row = read(
        f"SELECT {models.select}, {creators.select}, 42 FROM {table(AIModel)} m"
        f" JOIN {table(Provider)} p ON p.{column(Provider, 'pk')} = m.{column(AIModel, 'provider')}"
        f" WHERE m.{column(AIModel, 'slug')} = %s",
        ["bravo"],
    )
    values = iter(row)

    model, creator = models.take(values), creators.take(values)

    assert next(values) == 42
    assert not model.get_deferred_fields() and not creator.get_deferred_fields()
    assert model.created_at == made.created_at  # an aware datetime, on any backend
    assert (model.release_date, creator.slug) == (made.release_date, made.provider.slug)


def test_a_field_that_is_not_a_column_is_refused():
    with pytest.raises(ValueError):
        Columns.of(AIModel, "m", ("id", "capabilities"))


def test_an_inserted_instance_is_stored_as_save_would_store_it():
    provider = ProviderFactory()
    made = AIModel(
        slug="charlie",
        name="C: Charlie",
        provider=provider,
        price_input_per_mtok=Decimal("0.5000"),
    )

    stored = insert(made)

    assert stored is made and made.pk is not None and not made._state.adding
    again = AIModel.objects.get(pk=made.pk)
    assert (again.slug, again.name, again.provider_id) == ("charlie", "C: Charlie", provider.pk)
    assert again.price_input_per_mtok == Decimal("0.5000")
    # auto_now_add and defaults are filled in as by save()
    assert again.created_at is not None and again.created_at == made.created_at
    assert again.status == AIModel.Status.ACTIVE


def test_an_insert_that_breaks_a_constraint_raises_and_stores_nothing():
    from django.db import IntegrityError, transaction

    first = AIModelFactory(slug="delta")
    with pytest.raises(IntegrityError), transaction.atomic():
        insert(AIModel(slug="delta", name="Other", provider=first.provider))
    assert AIModel.objects.filter(slug="delta").count() == 1


def _leaderboard_row(snapshot, model, **values) -> dict:
    return {
        "snapshot": snapshot,
        "model": model,
        "rank": None,
        "rating": 1000.0,
        "lower": 990.0,
        "upper": 1010.0,
        "votes": 0,
        "win_rate": 0.5,
        "is_provisional": True,
        "tier": None,
        "style_rating": None,
        "style_lower": None,
        "style_upper": None,
        "style_rank": None,
        "style_tier": None,
        "rival_score": None,
        "consistency": None,
        "flip_votes": None,
        "flip_exact": False,
        **values,
    }


def _snapshot() -> LeaderboardSnapshot:
    from django.utils import timezone

    return LeaderboardSnapshot.objects.create(
        computed_at=timezone.now(), votes_used=0, excluded_votes=0, rounds=0, seed=0
    )


def test_rows_of_plain_values_are_stored_in_one_statement():
    snapshot, models = _snapshot(), AIModelFactory.create_batch(3)
    values = [
        _leaderboard_row(snapshot.pk, models[0].pk, rank=1, rating=1234.5, flip_votes=7),
        _leaderboard_row(snapshot.pk, models[1].pk, is_provisional=False, flip_exact=True),
        _leaderboard_row(snapshot.pk, models[2].pk, style_rating=-3.25, consistency=0.0),
    ]
    names = list(values[0])[::-1]  # any order of the fields

    with CaptureQueriesContext(connection) as queries:
        stored = insert_values(LeaderboardRow, names, ([v[n] for n in names] for v in values))

    assert stored == 3
    # COPY is not logged as a query; the INSERT of other databases is one batch.
    assert len(queries) == (0 if connection.vendor == "postgresql" else 1)
    read = list(
        LeaderboardRow.objects.filter(snapshot=snapshot).order_by("model_id").values(*names)
    )
    expected = [{**v, "snapshot": snapshot.pk} for v in values]
    assert [{n: r[n] for n in names} for r in read] == sorted(expected, key=lambda v: v["model"])
    assert insert_values(LeaderboardRow, names, []) == 0


def test_plain_values_must_name_every_field_once():
    names = list(_leaderboard_row(None, None))
    for wrong in (names[1:], [*names, "rank"], [*names[1:], "id"]):
        with pytest.raises(ImproperlyConfigured):
            insert_values(LeaderboardRow, wrong, [])


def test_a_batch_of_plain_values_that_breaks_a_constraint_stores_none_of_it():
    from django.db import IntegrityError, transaction

    snapshot, model = _snapshot(), AIModelFactory()
    names = list(_leaderboard_row(None, None))
    twice = [list(_leaderboard_row(snapshot.pk, model.pk).values())] * 2
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_values(LeaderboardRow, names, twice)
    assert not LeaderboardRow.objects.filter(snapshot=snapshot).exists()


# --- Prepared: a queryset compiled once, run with new values ---------------------------------

by_creator_and_status = Prepared(
    lambda creator, status: (
        AIModel.objects.filter(provider__slug=creator)
        .exclude(status=status)
        .select_related("provider")
        .only("slug", "price_input_per_mtok", "created_at", "provider__name")
        .order_by("slug")
    ),
    MARK_TEXT,
    MARK_OTHER_TEXT,
)


def test_prepared_rows_are_the_querysets_for_each_call_s_values():
    AIModelFactory(slug="a1", provider=ProviderFactory(slug="acme"), status="active")
    AIModelFactory(slug="a2", provider=ProviderFactory(slug="acme"), status="deprecated")
    AIModelFactory(slug="b1", provider=ProviderFactory(slug="beta"), status="active")

    for creator, status in [("acme", "deprecated"), ("acme", "active"), ("beta", "deprecated")]:
        orm = list(
            AIModel.objects.filter(provider__slug=creator)
            .exclude(status=status)
            .select_related("provider")
            .only("slug", "price_input_per_mtok", "created_at", "provider__name")
            .order_by("slug")
        )
        with CaptureQueriesContext(connection) as queries:
            prepared = by_creator_and_status(creator, status)
            # What select_related loaded is there: no query to read the creator's name.
            names = [
                (m.slug, m.provider.name, m.created_at, m.price_input_per_mtok) for m in prepared
            ]
        assert len(queries) == 1
        assert names == [
            (m.slug, m.provider.name, m.created_at, m.price_input_per_mtok) for m in orm
        ]
        assert [m.get_deferred_fields() for m in prepared] == [m.get_deferred_fields() for m in orm]


def test_prepared_values_list_rows_go_through_the_orm_converters():
    made = AIModelFactory(slug="c1", price_input_per_mtok=Decimal("1.2500"))
    prepared = Prepared(
        lambda pk: AIModel.objects.filter(pk=pk).values_list(
            "slug", "price_input_per_mtok", "created_at"
        ),
        MARK_ID,
    )

    assert prepared(made.pk) == list(
        AIModel.objects.filter(pk=made.pk).values_list("slug", "price_input_per_mtok", "created_at")
    )
    assert prepared(made.pk + 1) == []


def test_a_marker_the_orm_does_not_pass_as_a_parameter_is_refused():
    # `__icontains` wraps the value in wildcards: it is not the marker any more.
    prepared = Prepared(lambda q: AIModel.objects.filter(name__icontains=q), MARK_TEXT)

    with pytest.raises(ValueError):
        prepared("x")


@pytest.mark.django_db(transaction=True)
def test_prepared_runs_on_the_calling_thread_s_connection():
    from concurrent.futures import ThreadPoolExecutor

    made = AIModelFactory(slug="t1")
    prepared = Prepared(lambda pk: AIModel.objects.filter(pk=pk).values_list("slug"), MARK_ID)
    assert prepared(made.pk) == [("t1",)]  # compiled here, on this thread's connection

    def on_a_thread():
        try:
            with CaptureQueriesContext(connection) as queries:
                found = prepared(made.pk)
            return found, len(queries), connection.connection is not None
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        found, counted, connected = pool.submit(on_a_thread).result()

    assert (found, counted, connected) == ([("t1",)], 1, True)
