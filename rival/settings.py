"""Rival's one settings module.

Everything comes from the environment, with defaults that make a bare checkout
run on SQLite, Celery's filesystem broker and a local-memory cache. Production
hardening is switched on by DEBUG=0 and the variables listed in .env.example.
"""

import ipaddress
import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

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
    # A constant key signs sessions and CSRF tokens anyone can forge: only DEBUG=1 (`make run`
    # sets it) may fall back to one; anything else refuses to start.
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG=0.")
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
    "allauth",
    "allauth.account",
    "axes",
    "apps.catalog",
    "apps.challenges",
    "apps.responses",
    "apps.compare",
    "apps.arena",
    "apps.gateways",
    "apps.datasets",
    "apps.collection",
    "apps.lab",
    "apps.accounts",
    "apps.developers",
    "apps.pages",
]

MIDDLEWARE = [
    # First: a cookie-less GET of a public page is answered from the cache before anything
    # else runs, with the headers the rest of the stack gave the page when it was stored.
    "rival.web.pagecache.AnonymousPageCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "rival.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
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
        # A database that does not answer fails the request (a 503 page) within seconds
        # instead of holding a web worker; connections are retried on the next request.
        DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = int(
            os.environ.get("DATABASE_CONNECT_TIMEOUT", "3")
        )
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
# Two caches. "default" holds what can be recomputed (pages, rendered HTML, pools) and may be
# evicted: CACHE_URL, by default REDIS_URL's database number + 1, and in compose its own Redis
# server with maxmemory + allkeys-lru. "limits" holds rate-limit counters, which eviction would
# reset: it lives beside the Celery broker on REDIS_URL, whose server must never evict
# (noeviction). Both fail open (rival/cache.py): with Redis down pages are computed and rate
# limits let everything through, instead of a 500.
REDIS_URL = os.environ.get("REDIS_URL", "")


def _next_redis_database(url: str) -> str:
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{database + 1}"))


CACHE_URL = os.environ.get("CACHE_URL", "") or (REDIS_URL and _next_redis_database(REDIS_URL))
# Redis on the same host or network answers in well under a millisecond; a cache that takes
# longer is treated as down rather than holding a request.
_REDIS_CACHE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "rival.cache.FailOpenRedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "rival"),
            "OPTIONS": _REDIS_CACHE_OPTIONS,
        },
        "limits": {
            "BACKEND": "rival.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "rival") + ":limits",
            "OPTIONS": _REDIS_CACHE_OPTIONS,
        },
    }
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "limits": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "limits",
        },
    }
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

# Anonymous public pages are served whole from the cache for this long at most (0: off); any
# write that changes what pages show makes them stale at once (rival/web/pagecache.py). Off
# without Redis: the local-memory cache is not shared with the worker that writes snapshots.
PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "600" if REDIS_URL else "0"))
# Regions of public pages ({% fragment %}) and reads derived per content version (the
# comparison overview) are computed once per content version and kept
# this long at most (0: off, every request renders them; rival/web/templatetags/fragments.py).
FRAGMENT_CACHE_SECONDS = int(os.environ.get("FRAGMENT_CACHE_SECONDS", "3600"))

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
# Lab answers have their own queue, so a flood of Lab runs never starves collection: workers
# consume both (`-Q celery,lab`) and take from each in turn.
CELERY_TASK_ROUTES = {"apps.lab.tasks.lab_generate": {"queue": "lab"}}
# Celery's Django fixup closes the thread's database connection before and after every task
# unless this is set: every task then opened a new PostgreSQL connection (and the server
# forked a backend for it). Set high, connections live by CONN_MAX_AGE instead; rival/celery.py
# drops broken or aged ones around each task, as Django does around each request.
CELERY_DB_REUSE_MAX = 10**9
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# kombu's Redis transport with one client reused for the per-message commands (rival/broker.py).
if CELERY_BROKER_URL.startswith("redis://"):
    CELERY_BROKER_TRANSPORT = "rival.broker:Transport"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Auth, i18n, static ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Login throttling (django-axes): after LOGIN_FAILURE_LIMIT failed logins for one username
# from one client address, that pair is locked out for LOGIN_COOLOFF_SECONDS and gets a 429
# page. Axes sits in front of every backend, so any login that goes through Django's
# authenticate() (the admin's, and any later one) is covered. Attempts are counted in the
# database, so throttling holds across processes and while Redis is down. Only failures are
# recorded (client address, username, user agent) and axes deletes them once they expire; the
# operator lifts a lockout early with `manage.py axes_reset_username NAME`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(seconds=int(os.environ.get("LOGIN_COOLOFF_SECONDS", "900")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The same client address as the arena and the Lab use (TRUSTED_PROXIES below).
AXES_CLIENT_IP_CALLABLE = "rival.web.visitors.client_ip"
# The admin's form says "username", the site's (allauth) "login" with an email address.
AXES_USERNAME_CALLABLE = "rival.web.visitors.login_name"
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True
AXES_ENABLE_ADMIN = False

# Accounts (django-allauth): email and password only, and no sign-in before the address is
# verified, so a signed-in voter is a "verified voter".
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Rival] "
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "accounts:profile"
# allauth's own throttles, counted in the cache ("count/period/scope", comma-separated):
# failed logins per address lock that address out for a while; the rest are per client IP.
ACCOUNT_RATE_LIMITS = {
    "login": os.environ.get("ACCOUNT_RATE_LIMIT_LOGIN", "30/m/ip"),
    "login_failed": os.environ.get("ACCOUNT_RATE_LIMIT_LOGIN_FAILED", "10/m/ip,5/15m/key"),
    "signup": os.environ.get("ACCOUNT_RATE_LIMIT_SIGNUP", "10/h/ip"),
    "reset_password": os.environ.get("ACCOUNT_RATE_LIMIT_RESET_PASSWORD", "10/h/ip,3/h/key"),
    "reset_password_from_key": "20/m/ip",
}

# Email (Django's MAILERS): SMTP in production or whenever EMAIL_HOST is set; printed to the
# console in development and on the embedded default.
if os.environ.get("EMAIL_HOST") or (not DEBUG and DATABASE_URL):
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("EMAIL_HOST") or "localhost",
                "port": int(os.environ.get("EMAIL_PORT", "587")),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
                "use_ssl": env_bool("EMAIL_USE_SSL", False),
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Rival <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

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
# Pages never open other sites' windows with a handle back to ours (Django's default, stated).
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# No page needs these browser features; rival/middleware.py sends the header.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
}
# Django's database sessions, read without the ORM (rival/sessions.py): every arena request
# reads one.
SESSION_ENGINE = "rival.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG and bool(DATABASE_URL))
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG and bool(DATABASE_URL))
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# HSTS (sent on HTTPS responses only) defaults to a year when the site is served over HTTPS:
# redirected to it, or with an https:// SITE_URL. Set SECURE_HSTS_SECONDS=0 to opt out.
_SERVED_OVER_HTTPS = SECURE_SSL_REDIRECT or SITE_URL.startswith("https://")
SECURE_HSTS_SECONDS = int(
    os.environ.get("SECURE_HSTS_SECONDS", "") or (31536000 if _SERVED_OVER_HTTPS else 0)
)
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
# Generated media is hostile input: caps on what a provider may hand back (checked before
# decoding), and the size of the stored thumbnails.
RESPONSE_IMAGE_MAX_BYTES = int(os.environ.get("RESPONSE_IMAGE_MAX_BYTES", str(8 * 1024 * 1024)))
RESPONSE_IMAGE_MAX_PIXELS = int(os.environ.get("RESPONSE_IMAGE_MAX_PIXELS", str(4096 * 4096)))
RESPONSE_AUDIO_MAX_BYTES = int(os.environ.get("RESPONSE_AUDIO_MAX_BYTES", str(16 * 1024 * 1024)))
RESPONSE_AUDIO_MAX_SECONDS = int(os.environ.get("RESPONSE_AUDIO_MAX_SECONDS", "300"))

# Arena: how long an issued battle can be voted on, vote rate limits ("count/seconds", per
# arena session and per IP hash), the bootstrap, and when a model counts as provisional.
ARENA_BATTLE_TTL_SECONDS = int(os.environ.get("ARENA_BATTLE_TTL_SECONDS", "3600"))
ARENA_RATE_LIMIT_SESSION = os.environ.get("ARENA_RATE_LIMIT_SESSION", "30/60")
ARENA_RATE_LIMIT_IP = os.environ.get("ARENA_RATE_LIMIT_IP", "120/60")
# Battles issued (arena page views, re-rolls) as count/seconds, per session and per IP group.
ARENA_ISSUE_LIMIT_SESSION = os.environ.get("ARENA_ISSUE_LIMIT_SESSION", "30/300")
ARENA_ISSUE_LIMIT_IP = os.environ.get("ARENA_ISSUE_LIMIT_IP", "120/300")
ARENA_BOOTSTRAP_ROUNDS = int(os.environ.get("ARENA_BOOTSTRAP_ROUNDS", "1000"))
# Worker processes the leaderboard's larger boards are computed in (0: threads only), and
# the tally rows from which a board goes to them (apps/arena/boards.py).
ARENA_BOARD_PROCESSES = int(os.environ.get("ARENA_BOARD_PROCESSES", "2"))
ARENA_BOARD_PROCESS_ROWS = int(os.environ.get("ARENA_BOARD_PROCESS_ROWS", "5000"))
# Counted votes a model needs before it is ranked; below this it is shown as provisional.
ARENA_MIN_VOTES = int(os.environ.get("ARENA_MIN_VOTES", "300"))
ARENA_RECOMPUTE_AFTER_VOTES = int(os.environ.get("ARENA_RECOMPUTE_AFTER_VOTES", "100"))
# Salt for IP hashes; defaults to one derived from SECRET_KEY. Changing it unlinks old hashes.
ARENA_IP_SALT = os.environ.get("ARENA_IP_SALT", "")
# The blind pool (docs/arena.md): a new response stays arena-only until it has this many
# counted votes or was collected this many days ago (curators override both per challenge).
ARENA_BLIND_VOTES = int(os.environ.get("ARENA_BLIND_VOTES", "30"))
ARENA_BLIND_DAYS = int(os.environ.get("ARENA_BLIND_DAYS", "7"))
# Live battles (docs/arena.md): a visitor's own prompt answered by two anonymous models through
# the Prompt Lab's machinery. Battles started as count/seconds per arena session and per IP
# group, and daily USD caps of their own (the site's, a signed-in user's, an anonymous
# visitor's per session and per IP group; 0: anonymous visitors get free models only).
ARENA_LIVE_LIMIT_SESSION = os.environ.get("ARENA_LIVE_LIMIT_SESSION", "10/3600")
ARENA_LIVE_LIMIT_IP = os.environ.get("ARENA_LIVE_LIMIT_IP", "30/3600")
ARENA_LIVE_DAILY_USD = Decimal(os.environ.get("ARENA_LIVE_DAILY_USD", "2"))
ARENA_LIVE_USER_DAILY_USD = Decimal(os.environ.get("ARENA_LIVE_USER_DAILY_USD", "0.25"))
ARENA_LIVE_ANON_DAILY_USD = Decimal(os.environ.get("ARENA_LIVE_ANON_DAILY_USD", "0"))


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

# Developer hub: requests per address group (an IPv4 address, an IPv6 /64) as count/seconds,
# across the API, feeds, badges and dataset downloads; and how long clients may cache replies.
API_RATE_LIMIT = os.environ.get("API_RATE_LIMIT", "120/60")
API_CACHE_SECONDS = int(os.environ.get("API_CACHE_SECONDS", "60"))
# How long the server keeps a public reply under the content version (0: off).
API_REPLY_CACHE_SECONDS = int(os.environ.get("API_REPLY_CACHE_SECONDS", "300"))
# Open datasets: where the daily export writes them (served at /datasets/), and their licence.
DATASETS_DIR = Path(os.environ.get("DATASETS_DIR", VAR_DIR / "datasets"))
DATASETS_EXPORT_SECONDS = float(os.environ.get("DATASETS_EXPORT_SECONDS", str(24 * 60 * 60)))
DATASETS_LICENCE = os.environ.get(
    "DATASETS_LICENCE",
    "Rival's data (catalog, challenges, votes) is released under CC BY 4.0. Responses are "
    "what the models wrote; their providers' terms may apply to reuse.",
)

# Prompt Lab: a visitor's own prompt, live against 2-4 models. Only the free demo gateway is
# offered unless the operator opts in to gateways that spend money (those with a key set).
LAB_MAX_PROMPT_CHARS = min(
    int(os.environ.get("LAB_MAX_PROMPT_CHARS", "4000")), RIVAL_MAX_PROMPT_CHARS
)
LAB_ALLOW_PAID_GATEWAYS = env_bool("LAB_ALLOW_PAID_GATEWAYS", False)
# Runs started, as count/seconds, per browser session and per (hashed) IP.
LAB_RATE_LIMIT_SESSION = os.environ.get("LAB_RATE_LIMIT_SESSION", "10/3600")
LAB_RATE_LIMIT_IP = os.environ.get("LAB_RATE_LIMIT_IP", "30/3600")
# Daily spending caps in USD (UTC days), checked atomically before a run is queued: the whole
# site's, each signed-in user's, and — per browser session and per IP — anonymous visitors'
# (0: anonymous visitors may run only free models). The free demo gateway counts nothing.
LAB_DAILY_USD = Decimal(os.environ.get("LAB_DAILY_USD", "5"))
LAB_USER_DAILY_USD = Decimal(os.environ.get("LAB_USER_DAILY_USD", "0.50"))
LAB_ANON_DAILY_USD = Decimal(os.environ.get("LAB_ANON_DAILY_USD", "0"))
# Output tokens asked of each model (bounds the cost of a call), and per-model exceptions as
# slug=tokens pairs, comma-separated.
LAB_MAX_TOKENS = int(os.environ.get("LAB_MAX_TOKENS", "1024"))
LAB_MAX_TOKENS_BY_MODEL = {
    slug.strip(): int(tokens)
    for slug, _, tokens in (pair.partition("=") for pair in env_list("LAB_MAX_TOKENS_BY_MODEL"))
}
# Seconds one model's call may take in all, enforced while its answer streams in.
LAB_CALL_DEADLINE = float(os.environ.get("LAB_CALL_DEADLINE", "90"))
# One model's answer: soft limit (the result is marked failed), then the hard kill; both
# beyond the call deadline, which normally ends the call first.
LAB_TASK_SOFT_TIME_LIMIT = int(LAB_CALL_DEADLINE) + 30
LAB_TASK_TIME_LIMIT = int(LAB_CALL_DEADLINE) + 60

# --- Collection (see README "Collect real responses") ----------------------------------------
# Per-gateway concurrency and requests/second live on the Gateway rows (admin). These tune how
# workers call providers and recover from failures.
COLLECTION_REQUEST_TIMEOUT = float(os.environ.get("COLLECTION_REQUEST_TIMEOUT", "120"))
# The whole of one provider call, however steadily the answer trickles in (the timeout above
# bounds each read only, and the threads pool enforces no Celery time limit). Keep it under
# COLLECTION_JOB_LEASE, or a slow call's job is re-queued and paid for twice.
COLLECTION_CALL_DEADLINE = float(
    os.environ.get("COLLECTION_CALL_DEADLINE", str(CELERY_TASK_SOFT_TIME_LIMIT))
)
COLLECTION_MAX_ATTEMPTS = int(os.environ.get("COLLECTION_MAX_ATTEMPTS", "8"))
COLLECTION_BACKOFF_BASE = float(os.environ.get("COLLECTION_BACKOFF_BASE", "2"))
COLLECTION_BACKOFF_MAX = float(os.environ.get("COLLECTION_BACKOFF_MAX", "300"))
# A claimed job not finished within this many seconds is taken as lost (worker killed) and
# re-enqueued by the requeue_stale_jobs beat task; a queued one after COLLECTION_QUEUE_LEASE.
# A job a loop claims while its current call is out holds twice this (it waits for one call).
COLLECTION_JOB_LEASE = float(
    os.environ.get("COLLECTION_JOB_LEASE", str(CELERY_TASK_TIME_LIMIT + 60))
)
COLLECTION_QUEUE_LEASE = float(os.environ.get("COLLECTION_QUEUE_LEASE", "1800"))
COLLECTION_REQUEUE_INTERVAL = float(os.environ.get("COLLECTION_REQUEUE_INTERVAL", "60"))
# A run's job loop (collect_run_jobs) starts no new job after this many seconds: it hands the
# rest of the run to a fresh message at the back of the queue, so other work gets its turn.
COLLECTION_LOOP_SECONDS = float(os.environ.get("COLLECTION_LOOP_SECONDS", "10"))
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
    "developers-export-datasets": {
        "task": "apps.developers.tasks.export_datasets",
        "schedule": DATASETS_EXPORT_SECONDS,
    },
    # Sessions (arena voters, Lab runs, admin logins) would otherwise pile up forever.
    "clear-expired-sessions": {
        "task": "rival.tasks.clear_expired_sessions",
        "schedule": float(os.environ.get("CLEAR_SESSIONS_SECONDS", "86400")),
    },
}
