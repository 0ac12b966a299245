"""One store per process for state every worker must share: Redis-backed when REDIS_URL is
set, in-process otherwise (the embedded default). Used by the gateway limits and the spend
caps, which differ only in the two classes they build."""

import logging
import threading
from collections.abc import Callable

from django.conf import settings

logger = logging.getLogger(__name__)


class ProcessStore[T]:
    """Builds `redis(url, key_prefix)` or `local()` on first use, once per process.

    `instance` may be set directly (tests swap in a store of their own)."""

    def __init__(self, redis: Callable[[str, str], T], local: Callable[[], T], without_redis=""):
        self._redis = redis
        self._local = local
        self._without_redis = without_redis
        self._lock = threading.Lock()
        self.instance: T | None = None

    def get(self) -> T:
        with self._lock:
            if self.instance is None:
                if settings.REDIS_URL:
                    prefix = settings.CACHES["default"].get("KEY_PREFIX") or "rival"
                    self.instance = self._redis(settings.REDIS_URL, prefix)
                else:
                    if self._without_redis:
                        logger.warning(self._without_redis)
                    self.instance = self._local()
            return self.instance
