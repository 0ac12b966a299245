from decimal import Decimal

import pytest
from django.db import connection

from apps.catalog.models import AIModel, Provider
from rival.sqlrows import Columns, column, insert, table
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
