"""Rival's one settings module.

Everything comes from the environment, with defaults that make a bare checkout
run on SQLite, Celery's filesystem broker and a local-memory cache. Production
hardening is switched on by DEBUG=0 and the variables listed in .env.example.
"""

import ipaddress
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("RIVAL_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and os.environ.get("DATABASE_URL"):
        raise ImproperlyConfigured("SECRET_KEY must be set when DATABASE_URL is set and DEBUG=0.")
    # Development and the embedded default only: a key that never leaves this machine.
    SECRET_KEY = "rival-insecure-development-key-do-not-use-in-production-0123456789"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "django_htmx",
    "rival.web",
    "apps.catalog",
    "apps.challenges",
    "apps.responses",
    "apps.compare",
    "apps.arena",
    "apps.gateways",
    "apps.datasets",
    "apps.collection",
    "apps.lab",
    "apps.pages",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "rival.urls"
WSGI_APPLICATION = "rival.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "rival.web.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Default: SQLite in var/ with WAL, a busy timeout and IMMEDIATE transactions, so the web
# process and the Celery worker can write side by side without "database is locked".
SQLITE_PATH = VAR_DIR / "rival.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": SQLITE_PATH,
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery -----------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "rival"),
        }
    }
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        # Exchange tables; unset, kombu writes them to ./control in the working directory.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_TASK_SOFT_TIME_LIMIT = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "300"))
CELERY_TASK_TIME_LIMIT = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "360"))
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The benchmark runs its worker on its own queue, away from real work.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
# Celery's Django fixup closes the thread's database connection before and after every task
# unless this is set: every task then opened a new PostgreSQL connection (and the server
# forked a backend for it). Set high, connections live by CONN_MAX_AGE instead; rival/celery.py
# drops broken or aged ones around each task, as Django does around each request.
CELERY_DB_REUSE_MAX = 10**9
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Auth, i18n, static ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
if env_bool("RIVAL_PLAIN_STATIC", False):
    STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"

# --- Security -------------------------------------------------------------------------------
# Our own pages run no inline script and load nothing from elsewhere. Model-written HTML and
# SVG never reach these pages: they are served from a separate endpoint with its own policy.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "frame-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.SELF],
}
# Pages that must be framed (the sandboxed output endpoint) opt in per view.
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG and bool(DATABASE_URL))
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG and bool(DATABASE_URL))
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # httpx logs full request lines; keep it quiet so nothing sensitive leaks by accident.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # The SDKs' own HTTP client does the same.
        "httpx2": {"level": "WARNING"},
    },
}

# --- Rival ----------------------------------------------------------------------------------
# Collection defaults follow the published method of comparable sites: one shot, user prompt
# only, temperature 0.7, top_p 1, no penalties, no seed, a generous max-tokens.
RIVAL_DEFAULT_TEMPERATURE = 0.7
RIVAL_DEFAULT_TOP_P = 1.0
RIVAL_DEFAULT_MAX_TOKENS = 8192
RIVAL_MAX_PROMPT_CHARS = int(os.environ.get("RIVAL_MAX_PROMPT_CHARS", "50000"))

# Arena: how long an issued battle can be voted on, vote rate limits ("count/seconds", per
# arena session and per IP hash), the bootstrap, and when a model counts as provisional.
ARENA_BATTLE_TTL_SECONDS = int(os.environ.get("ARENA_BATTLE_TTL_SECONDS", "3600"))
ARENA_RATE_LIMIT_SESSION = os.environ.get("ARENA_RATE_LIMIT_SESSION", "30/60")
ARENA_RATE_LIMIT_IP = os.environ.get("ARENA_RATE_LIMIT_IP", "120/60")
# Battles issued (arena page views, re-rolls) as count/seconds, per session and per IP group.
ARENA_ISSUE_LIMIT_SESSION = os.environ.get("ARENA_ISSUE_LIMIT_SESSION", "30/300")
ARENA_ISSUE_LIMIT_IP = os.environ.get("ARENA_ISSUE_LIMIT_IP", "120/300")
ARENA_BOOTSTRAP_ROUNDS = int(os.environ.get("ARENA_BOOTSTRAP_ROUNDS", "1000"))
ARENA_PROVISIONAL_VOTES = int(os.environ.get("ARENA_PROVISIONAL_VOTES", "30"))
ARENA_RECOMPUTE_AFTER_VOTES = int(os.environ.get("ARENA_RECOMPUTE_AFTER_VOTES", "100"))
# Salt for IP hashes; defaults to one derived from SECRET_KEY. Changing it unlinks old hashes.
ARENA_IP_SALT = os.environ.get("ARENA_IP_SALT", "")
# The blind pool (docs/arena.md): a new response stays arena-only until it has this many
# counted votes or was collected this many days ago (curators override both per challenge).
ARENA_BLIND_VOTES = int(os.environ.get("ARENA_BLIND_VOTES", "30"))
ARENA_BLIND_DAYS = int(os.environ.get("ARENA_BLIND_DAYS", "7"))


# Networks (CIDR, comma-separated) of the reverse proxies in front of the app. Only a peer
# inside them is believed about X-Forwarded-For; empty: every address is REMOTE_ADDR.
def _networks(name: str) -> list:
    try:
        return [ipaddress.ip_network(item, strict=False) for item in env_list(name)]
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{name} is a comma-separated list of networks such as 10.0.0.0/8,127.0.0.1/32 "
            f"(a hop count is no longer accepted): {exc}"
        ) from exc


TRUSTED_PROXIES = _networks("TRUSTED_PROXIES")

# Prompt Lab: a visitor's own prompt, live against 2-4 models. Only the free demo gateway is
# offered unless the operator opts in to gateways that spend money (those with a key set).
LAB_MAX_PROMPT_CHARS = min(
    int(os.environ.get("LAB_MAX_PROMPT_CHARS", "4000")), RIVAL_MAX_PROMPT_CHARS
)
LAB_ALLOW_PAID_GATEWAYS = env_bool("LAB_ALLOW_PAID_GATEWAYS", False)
# Runs started, as count/seconds, per browser session and per (hashed) IP.
LAB_RATE_LIMIT_SESSION = os.environ.get("LAB_RATE_LIMIT_SESSION", "10/3600")
LAB_RATE_LIMIT_IP = os.environ.get("LAB_RATE_LIMIT_IP", "30/3600")
# One model's answer: soft limit (the result is marked failed), then the hard kill.
LAB_TASK_SOFT_TIME_LIMIT = 120
LAB_TASK_TIME_LIMIT = 150

# --- Collection (see README "Collect real responses") ----------------------------------------
# Per-gateway concurrency and requests/second live on the Gateway rows (admin). These tune how
# workers call providers and recover from failures.
COLLECTION_REQUEST_TIMEOUT = float(os.environ.get("COLLECTION_REQUEST_TIMEOUT", "120"))
COLLECTION_MAX_ATTEMPTS = int(os.environ.get("COLLECTION_MAX_ATTEMPTS", "8"))
COLLECTION_BACKOFF_BASE = float(os.environ.get("COLLECTION_BACKOFF_BASE", "2"))
COLLECTION_BACKOFF_MAX = float(os.environ.get("COLLECTION_BACKOFF_MAX", "300"))
# A claimed job not finished within this many seconds is taken as lost (worker killed) and
# re-enqueued by the requeue_stale_jobs beat task; a queued one after COLLECTION_QUEUE_LEASE.
COLLECTION_JOB_LEASE = float(
    os.environ.get("COLLECTION_JOB_LEASE", str(CELERY_TASK_TIME_LIMIT + 60))
)
COLLECTION_QUEUE_LEASE = float(os.environ.get("COLLECTION_QUEUE_LEASE", "1800"))
COLLECTION_REQUEUE_INTERVAL = float(os.environ.get("COLLECTION_REQUEUE_INTERVAL", "60"))
# How long a task waits in-process for a gateway slot before handing itself back to the queue.
COLLECTION_SLOT_WAIT = float(os.environ.get("COLLECTION_SLOT_WAIT", "30"))
# Budget estimates: output tokens assumed per answer (capped by the challenge's max_tokens).
COLLECTION_ESTIMATED_OUTPUT_TOKENS = int(
    os.environ.get("COLLECTION_ESTIMATED_OUTPUT_TOKENS", "1000")
)
# Default budget cap per run in USD; empty for none. Runs can set their own.
COLLECTION_DEFAULT_BUDGET_USD = os.environ.get("COLLECTION_DEFAULT_BUDGET_USD", "") or None

# --- Periodic tasks (Celery beat) ------------------------------------------------------------
CELERY_BEAT_SCHEDULE = {
    "arena-recompute-leaderboard": {
        "task": "apps.arena.tasks.recompute_leaderboard",
        "schedule": float(os.environ.get("ARENA_RECOMPUTE_SECONDS", "300")),
    },
    # Responses leave the arena's blind pool when they have enough votes or days.
    "arena-release-responses": {
        "task": "apps.arena.tasks.release_responses",
        "schedule": float(os.environ.get("ARENA_RELEASE_SECONDS", "300")),
    },
    "collection-requeue-stale-jobs": {
        "task": "apps.collection.tasks.requeue_stale_jobs",
        "schedule": COLLECTION_REQUEUE_INTERVAL,
    },
}
