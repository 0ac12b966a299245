from decimal import Decimal

import pytest
from django.db import connection

from apps.catalog.models import AIModel, Provider
from rival.sqlrows import Columns, column, table
from tests.factories import AIModelFactory

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
