"""Helpers for the arena's plain SQL (a battle issued and shown, a battle read to vote on),
composed once from the models' tables, and model instances made from its rows: the ORM spent
more time compiling those joins than the database spends running them."""

from collections.abc import Iterator, Sequence
from datetime import UTC

from django.db import connection
from django.db.models import DateTimeField, Model
from django.utils import timezone


def table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def columns(alias: str, model: type[Model], names: Sequence[str]) -> str:
    """`alias`'s columns of `model`'s fields `names` (attribute names), for a SELECT."""
    quote = connection.ops.quote_name
    return ", ".join(f"{alias}.{quote(model._meta.get_field(name).column)}" for name in names)


def instance(model: type[Model], names: Sequence[str], values: Iterator) -> Model:
    """A `model` row made of the next len(names) `values`, the fields `names` (attribute
    names, as `columns` selected them); any other field is deferred."""
    given = {name: next(values) for name in names}
    fields = [f for f in model._meta.concrete_fields if f.attname in given]
    for field in fields:
        value = given[field.attname]
        if isinstance(field, DateTimeField) and value is not None and timezone.is_naive(value):
            given[field.attname] = timezone.make_aware(value, UTC)  # SQLite's, in UTC
    # from_db takes the values in the order of the model's fields.
    return model.from_db(
        connection.alias, [f.attname for f in fields], [given[f.attname] for f in fields]
    )
