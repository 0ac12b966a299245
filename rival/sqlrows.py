"""Hot statements without the ORM's per-call compiling: model rows read (and written) by
hand-written SQL, and querysets compiled once.

For the few hot statements where the ORM spent longer compiling a query than the database
spends answering it (docs/benchmarks.md). Hand-written SQL (the arena's battle and vote
reads, the compare pages, a collection job's claim, the vote's and a new response's INSERT
by `insert`) composes its statement once per process from `table`, `column` and
`Columns.select`, column lists taken from the models' own metadata, so a renamed column or a
new field needs no edit there, and `Columns` makes model instances of the values as the ORM
makes them. `Prepared` keeps an ORM queryset as it is written and compiles it once per
process (the public pages' misses: home, model, response pages).
"""

import copy
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Model, QuerySet


def table(model: type[Model]) -> str:
    """The model's table, quoted."""
    return connection.ops.quote_name(model._meta.db_table)


def column(model: type[Model], name: str) -> str:
    """The column of the model's field `name` (a name, an attname, or "pk"), quoted."""
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    return connection.ops.quote_name(field.column)


@dataclass(frozen=True)
class Columns:
    """Fields of a model read as table `alias`: the SELECT list (in the order the fields were
    named) and model instances of their values (other fields deferred), the values passed
    through the backend's converters as the ORM's would be (SQLite's datetimes made aware,
    its decimals, JSON…)."""

    model: type[Model]
    alias: str
    fields: tuple  # in the SELECT's order
    # Per field, (its column expression, the backend's and the field's converters); None
    # when neither has any, as for most fields on PostgreSQL.
    converters: tuple
    # `from_db()` wants the values in the model's concrete field order.
    attnames: tuple[str, ...]
    order: tuple[int, ...]

    @classmethod
    def of(cls, model: type[Model], alias: str, names: Sequence[str] | None = None) -> "Columns":
        """`names` (names or attnames) in that order; None: every concrete field."""
        if names is None:
            fields = list(model._meta.concrete_fields)
        else:
            fields = [model._meta.get_field(name) for name in names]
            if any(not field.concrete for field in fields):
                raise ValueError(f"{model.__name__}: only concrete fields have columns")
        converters = []
        for field in fields:
            col = field.get_col(alias)
            found = [*connection.ops.get_db_converters(col), *col.get_db_converters(connection)]
            converters.append((col, found) if found else None)
        concrete = [f for f in model._meta.concrete_fields if f in fields]
        return cls(
            model=model,
            alias=alias,
            fields=tuple(fields),
            converters=tuple(converters),
            attnames=tuple(f.attname for f in concrete),
            order=tuple(fields.index(f) for f in concrete),
        )

    @property
    def select(self) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{self.alias}.{quote(f.column)}" for f in self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def build(self, values: Sequence) -> Model:
        """The instance of one row's values for these columns, in the SELECT's order."""
        values = list(values)
        for index, found in enumerate(self.converters):
            if found is not None:
                col, converters = found
                for converter in converters:
                    values[index] = converter(values[index], col, connection)
        return self.model.from_db(
            connection.alias, list(self.attnames), [values[i] for i in self.order]
        )

    def take(self, values: Iterator) -> Model:
        """The instance of the next len(self) values of a row being read in order."""
        return self.build([next(values) for _ in self.fields])


@functools.cache
def _insert_sql(model: type[Model], vendor: str) -> tuple[str, tuple]:
    fields = tuple(f for f in model._meta.concrete_fields if not f.primary_key)
    if any(f.generated or f.has_db_default() for f in fields):
        raise ImproperlyConfigured(
            f"{model.__name__} has database-computed columns: insert() would write them."
        )
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {table(model)} ({', '.join(quote(f.column) for f in fields)})"
        f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {column(model, 'pk')}"
    )
    return sql, fields


def insert(instance: Model) -> Model:
    """Store a new `instance` by one INSERT composed once per model, and give it its primary
    key: what `save()` writes (each field's `pre_save`, `auto_now_add` included, and its
    value prepared for the database), without the ORM's compiling of the statement. Like
    `bulk_create`, it sends no `pre_save`/`post_save` signals and opens no transaction; a
    constraint's IntegrityError reaches the caller."""
    sql, fields = _insert_sql(type(instance), connection.vendor)
    values = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def insert_values(model: type[Model], names: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Store new rows of `model` given as plain values of its fields `names` (every field
    but the primary key, in any order), already as the database takes them: numbers,
    strings, booleans, None. No model instances, no per-value preparing, no signals, no
    transaction of its own: COPY on PostgreSQL (one statement, the rows formatted in C),
    one batched INSERT elsewhere. For many small rows of numbers, where building instances
    and preparing each value cost more than the database spends storing them. Returns how
    many rows were stored."""
    fields = {f.name for f in model._meta.concrete_fields if not f.primary_key}
    if set(names) != fields or len(names) != len(fields):
        raise ImproperlyConfigured(
            f"{model.__name__}: insert_values() needs each of {sorted(fields)} once."
        )
    columns = ", ".join(column(model, name) for name in names)
    rows = list(rows)
    if rows:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Past Django's cursor wrapper: its errors are made Django's here.
                with (
                    connection.wrap_database_errors,
                    cursor.cursor.copy(f"COPY {table(model)} ({columns}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(names))
                cursor.executemany(f"INSERT INTO {table(model)} ({columns}) VALUES ({marks})", rows)
    return len(rows)


# Markers for Prepared's arguments: values no id, slug or choice takes.
MARK_ID, MARK_OTHER_ID = -7309817324061, -7309817324062
MARK_TEXT, MARK_OTHER_TEXT = "\x1fmarker\x1f", "\x1fother marker\x1f"


class Prepared:
    """A queryset compiled to SQL once per process (per database backend), then run with new
    values: for the hot reads of public pages where building and compiling the query cost the
    ORM more than the database spends answering it (docs/benchmarks.md, "Cache misses").

    `build(*markers)` returns the queryset with each argument given as its marker (a value of
    the argument's type that appears nowhere else in the query); it is built and compiled once,
    the markers are found among the statement's parameters, and each call runs the same SQL
    with the call's values in their places. The rows come back as the queryset itself gives
    them (model instances with what `select_related` loaded, or `values_list` tuples), through
    the ORM's own converters, so the results are the ORM's. Only for arguments the ORM passes
    as parameters unchanged (ids, slugs, choices; not `__in` lists or `__icontains`), never
    None: compiling fails loudly when a marker is missing from the parameters.
    """

    def __init__(self, build: Callable[..., QuerySet], *markers):
        self._build = build
        self._markers = markers
        self._compiled: dict[str, tuple] = {}

    def _compile(self, wrapper):
        queryset = self._build(*self._markers)
        compiler = queryset.query.get_compiler(connection=wrapper)
        sql, params = compiler.as_sql()
        slots = tuple(self._slot(value) for value in params)
        missing = set(range(len(self._markers))) - set(slots)
        if missing:
            raise ValueError(f"Prepared: markers {sorted(missing)} are not parameters of {sql}")
        # Each call runs on its own thread's connection; this one must not be kept alive.
        compiler.connection = None
        return queryset, compiler, sql, tuple(params), slots

    def _slot(self, value) -> int | None:
        for index, marker in enumerate(self._markers):
            if type(value) is type(marker) and value == marker:
                return index
        return None

    def __call__(self, *values) -> list:
        """The rows of the queryset built with `values`, as a list."""
        if any(value is None for value in values):
            # The ORM writes `IS NULL` for None, not `= %s`: a statement compiled for a value
            # cannot take it.
            raise ValueError("Prepared: None is not a value a compiled statement can take")
        wrapper = connections[DEFAULT_DB_ALIAS]
        # The statement depends on the backend only (its quoting and SQL), not on which
        # thread's connection compiled it.
        compiled = self._compiled.get(wrapper.vendor)
        if compiled is None:
            compiled = self._compiled[wrapper.vendor] = self._compile(wrapper)
        queryset, compiler, sql, params, slots = compiled
        params = tuple(p if s is None else values[s] for p, s in zip(params, slots, strict=True))
        # The compiler keeps what compiling found (the SELECT list, what select_related
        # loads); a copy of it runs this call's statement on this thread's connection (whose
        # converters it applies), and a copy of the queryset iterates it as the ORM does.
        run = copy.copy(compiler)
        run.connection = wrapper
        run.as_sql = lambda *args, **kwargs: (sql, params)
        rows = queryset.all()
        rows.query.get_compiler = lambda *args, **kwargs: run
        return list(rows)
