"""Test settings: the real settings, pointed at PostgreSQL and Redis by default.

The README's test command exports these too; the defaults here make a bare `pytest` work on a
machine with the usual local services.
"""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/rival")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/9")
# The cache's own database would be REDIS_URL's number + 1, which on a shared development Redis
# may belong to someone else (and tests clear the cache): keep both in the test database.
os.environ.setdefault("CACHE_URL", os.environ["REDIS_URL"])
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-used-anywhere-else-0123456789")
os.environ.setdefault("RIVAL_PLAIN_STATIC", "1")

from rival.settings import *  # noqa: E402, F403

CACHES["default"]["KEY_PREFIX"] = "rival-tests"  # noqa: F405
CACHES["limits"]["KEY_PREFIX"] = "rival-tests:limits"  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STATIC_ROOT = None
