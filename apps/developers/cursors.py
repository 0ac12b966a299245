"""Keyset pagination behind an opaque cursor, stable while rows are added.

A page is ordered by (sort key, id) and the cursor carries the last row's pair, so the next
page starts strictly after it whatever was inserted meanwhile: no row is skipped or repeated,
as an offset would after an insert ahead of it.
"""

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Q


class CursorError(ValueError):
    """A cursor this API did not issue, or issued for another sort."""


@dataclass(frozen=True)
class Sort:
    name: str  # as the client writes it: "name", "-updated_at"
    field: str  # the model field ordered on; never null

    @property
    def descending(self) -> bool:
        return self.name.startswith("-")


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None


def _encode(sort: Sort, value, pk: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([sort.name, value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(sort: Sort, cursor: str, *, is_datetime: bool) -> tuple:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, value, pk = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as error:
        raise CursorError("The cursor is not one this API issued.") from error
    if name != sort.name:
        raise CursorError("The cursor was issued for another sort order.")
    if (
        not isinstance(pk, int)
        or isinstance(pk, bool)
        or not isinstance(value, str)
        or "\x00" in value
        or not -(2**63) <= pk < 2**63
    ):
        raise CursorError("The cursor is not one this API issued.")
    if is_datetime:
        try:
            value = datetime.fromisoformat(value)
            if value.tzinfo is None:
                raise ValueError("naive")
            value = value.astimezone(UTC)
        except (ValueError, OverflowError) as error:
            raise CursorError("The cursor is not one this API issued.") from error
    return value, pk


def paginate(queryset, *, sort: Sort, cursor: str | None, limit: int) -> Page:
    """One page of `queryset` in `sort` order after `cursor`: one query (limit + 1 rows)."""
    field = sort.field
    is_datetime = queryset.model._meta.get_field(field).get_internal_type() == "DateTimeField"
    direction = "-" if sort.descending else ""
    queryset = queryset.order_by(f"{direction}{field}", f"{direction}pk")
    if cursor:
        value, pk = _decode(sort, cursor, is_datetime=is_datetime)
        after = "lt" if sort.descending else "gt"
        queryset = queryset.filter(
            Q(**{f"{field}__{after}": value}) | Q(**{field: value, f"pk__{after}": pk})
        )
    rows = list(queryset[: limit + 1])
    if len(rows) <= limit:
        return Page(rows, None)
    last = rows[limit - 1]
    return Page(rows[:limit], _encode(sort, getattr(last, field), last.pk))
