"""The Redis broker transport, with one change: a client reused for the per-message commands.

kombu's Redis channel builds a new `redis.Redis` for each command it sends outside the
consuming connection — for every message, one to record it as unacknowledged on delivery and
one to acknowledge it — and redis-py's constructor fills a table of ~170 response callbacks
each time: about a tenth of a collection worker's CPU. A client only borrows a connection from
its pool for each command, so one client per pool serves them all, from any thread. Nothing
else changes: same commands, same visibility and restore of unacknowledged messages.

Selected by CELERY_BROKER_TRANSPORT in settings when the broker is Redis.
"""

from contextlib import contextmanager

from kombu.transport import redis


class Channel(redis.Channel):
    _reused_client = None

    @contextmanager
    def conn_or_acquire(self, client=None):
        if client:
            yield client
            return
        reused = self._reused_client
        # A channel that dropped its pools (on a connection error) builds a client for the new one.
        if reused is None or reused.connection_pool is not self.pool:
            reused = self._reused_client = self._create_client()
        yield reused


class Transport(redis.Transport):
    Channel = Channel
