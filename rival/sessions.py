"""Sessions in the database, as Django keeps them, read by one statement written once.

Every arena request reads its visitor's session (the arena id, the voter's start) and the
database answers in a few microseconds; the ORM spent several times that building and
compiling the same `SELECT … WHERE session_key = … AND expire_date > now` and making a model
instance of it. Writes, expiry and the table are Django's own
(`django.contrib.sessions.backends.db`), so this store and Django's read each other's rows.
"""

import functools

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from rival.sqlrows import column, table


@functools.cache
def _read_sql(model) -> str:
    return (
        f"SELECT {column(model, 'session_data')} FROM {table(model)}"
        f" WHERE {column(model, 'session_key')} = %s AND {column(model, 'expire_date')} > %s"
    )


class SessionStore(db.SessionStore):
    def load(self):
        model = self.model
        with connections[router.db_for_read(model)].cursor() as cursor:
            cursor.execute(_read_sql(model), [self.session_key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            # As Django's store: an unknown or expired key is forgotten, so a save makes a
            # new session instead of writing under a key the visitor chose.
            self._session_key = None
            return {}
        return self.decode(row[0])
