"""The one settings module; everything configurable is read from the environment.

Embedded defaults (no variables set): SQLite, file storage and the Huey job store all
live in ``OCTOPUSHX_DATA_DIR`` (default ``./var``). See the README for every variable.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from octopushx.intelligence.config import settings_from_environment as _analysis_settings_from_environment

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool = False) -> bool:
    value = env(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {value!r}")


DATA_DIR = Path(env("OCTOPUSHX_DATA_DIR", "var")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

PRODUCTION = env("OCTOPUSHX_ENV", "development") == "production"
DEBUG = env_bool("OCTOPUSHX_DEBUG", False)
TESTING = env_bool("OCTOPUSHX_TESTING", "pytest" in sys.modules)


def _secret_key() -> str:
    key = env("OCTOPUSHX_SECRET_KEY")
    if key:
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("OCTOPUSHX_SECRET_KEY must be set in production")
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = [h.strip() for h in env("OCTOPUSHX_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")]
CSRF_TRUSTED_ORIGINS = [o.strip() for o in (env("OCTOPUSHX_CSRF_TRUSTED_ORIGINS", "") or "").split(",") if o.strip()]
# Links in emails and documents made outside a request (jobs, the CLI). `octopushx serve --port P`
# points the default at its own port; during a request links use the request's own address.
BASE_URL_CONFIGURED = bool(env("OCTOPUSHX_BASE_URL"))
BASE_URL = env("OCTOPUSHX_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",  # its widget templates, overridden in templates/django/forms for the design system
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "huey.contrib.djhuey",
    "octopushx.core",
    "octopushx.tenancy",
    "octopushx.accounts",
    "octopushx.shield",
    "octopushx.crm",
    "octopushx.calls",
    "octopushx.telephony",
    "octopushx.studio",
    "octopushx.reports",
    "octopushx.billing",
]

MIDDLEWARE = [
    "octopushx.core.middleware.RequestIdMiddleware",
    "octopushx.core.middleware.MetricsMiddleware",
    # Before anything reads request.get_host(): verified brand domains are allowed hosts.
    "octopushx.tenancy.hosts.BrandHostMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "octopushx.core.middleware.ContentSecurityPolicyMiddleware",
    "octopushx.shield.limits.middleware.RateLimitMiddleware",
    "octopushx.core.middleware.RequestSizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "octopushx.core.links.RequestBaseUrlMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "octopushx.core.text.FormTextMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "octopushx.tenancy.middleware.TenantMiddleware",
    "octopushx.core.entitlements.EntitlementMiddleware",
    "octopushx.shield.legal.middleware.LegalAcceptanceMiddleware",
    "octopushx.accounts.middleware.SessionTrackingMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "octopushx.urls"
WSGI_APPLICATION = "octopushx.wsgi.application"

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
                "octopushx.tenancy.context_processors.tenancy",
                "octopushx.studio.context_processors.studio",
                "octopushx.telephony.context_processors.telephony",
                "octopushx.billing.context_processors.billing",
            ],
        },
    }
]

FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- database -------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL", f"sqlite:///{DATA_DIR / 'octopushx.sqlite3'}")
try:
    # Connections live a minute; each request first checks the one it reuses (one "SELECT 1"), so after
    # a database restart a stale connection is replaced instead of failing a request (bench/faults).
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a database address: {exc}")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers of this process queue for SQLite's write lock in the process (core/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = "octopushx.core.sqlite"
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on the
        # busy timeout instead of failing with "database is locked" on lock upgrade.
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        # temp_store: statement journals (a row insert that fires a trigger opens one) and sorts
        # in memory, not in temporary files.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;"
        ),
    }
    if TESTING:
        # A file, not the in-memory default, so worker processes a test starts see the same
        # database. One per process: several test runs may share a machine (pytest-django
        # adds the xdist worker suffix as well).
        DATABASES["default"]["TEST"] = {
            "NAME": str(Path(tempfile.gettempdir()) / f"octopushx-test-{os.getpid()}.sqlite3")
        }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Hashes the given password once whatever the address: for an unknown one or an account
    # without a usable password too (Django's own timing equalisation; tests/accounts/test_sign_in_timing.py).
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests sign in thousands of times.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

AXES_FAILURE_LIMIT = env_int("OCTOPUSHX_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("OCTOPUSHX_LOGIN_LOCKOUT_MINUTES", 15) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "email"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "octopushx.accounts.views.locked_out"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
# Per account, from any address (accounts/lockout.py): the pause grows from 1 minute, doubling.
LOGIN_ACCOUNT_FAILURE_LIMIT = env_int("OCTOPUSHX_LOGIN_ACCOUNT_FAILURE_LIMIT", 10)
LOGIN_ACCOUNT_MAX_DELAY_MINUTES = env_int("OCTOPUSHX_LOGIN_ACCOUNT_MAX_DELAY_MINUTES", 60)

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = env_int("OCTOPUSHX_SESSION_DAYS", 14) * 86400
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"


def _totp_issuer(device) -> str:
    """Authenticator apps name the brand the person works under (a reseller's customers: the reseller's)."""
    from octopushx.tenancy.branding import product_name_for_user

    return product_name_for_user(device.user)


# Set OCTOPUSHX_OTP_ISSUER for one fixed name for everybody.
OTP_TOTP_ISSUER = env("OCTOPUSHX_OTP_ISSUER") or _totp_issuer

# --- email ----------------------------------------------------------------------------
# Without SMTP, each email is saved under DATA_DIR/mail and announced in one console line.
EMAIL_BACKEND = env("OCTOPUSHX_EMAIL_BACKEND", "octopushx.core.mailbox.DevelopmentEmailBackend")
if env("OCTOPUSHX_SMTP_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env("OCTOPUSHX_SMTP_HOST")
    EMAIL_PORT = env_int("OCTOPUSHX_SMTP_PORT", 587)
    EMAIL_HOST_USER = env("OCTOPUSHX_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = env("OCTOPUSHX_SMTP_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("OCTOPUSHX_SMTP_TLS", True)
DEFAULT_FROM_EMAIL = env("OCTOPUSHX_FROM_EMAIL", "OctopushX <no-reply@octopushx.local>")

# --- static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
NODE_MODULES = Path(env("OCTOPUSHX_NODE_MODULES", str(PROJECT_DIR / "node_modules")))
STATICFILES_DIRS = [
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/tabler", NODE_MODULES / "@tabler" / "core" / "dist"),  # the design system (Bootstrap 5 based)
    ("vendor/tabler-icons", NODE_MODULES / "@tabler" / "icons-webfont" / "dist"),
    ("vendor/tom-select", NODE_MODULES / "tom-select" / "dist"),  # type-ahead pickers
    ("vendor/echarts", NODE_MODULES / "echarts" / "dist"),  # every chart
    ("vendor/sortable", NODE_MODULES / "sortablejs"),  # drag and drop on the pipeline board
    ("vendor/swagger-ui", NODE_MODULES / "swagger-ui-dist"),  # the API reference (/api/v1/docs)
]
# The shell's own files (src/octopushx/static) first, then npm packages that are installed.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    *((prefix, path) for prefix, path in STATICFILES_DIRS if path.exists()),
]
WHITENOISE_USE_FINDERS = True

# --- blob storage ---------------------------------------------------------------------
STORAGE_BACKEND = env("OCTOPUSHX_STORAGE", "local")  # local | s3
STORAGES = {
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(DATA_DIR / "blobs")},
    },
}
if STORAGE_BACKEND == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env("OCTOPUSHX_S3_BUCKET"),
            "endpoint_url": env("OCTOPUSHX_S3_ENDPOINT_URL"),
            "region_name": env("OCTOPUSHX_S3_REGION"),
            "access_key": env("OCTOPUSHX_S3_ACCESS_KEY"),
            "secret_key": env("OCTOPUSHX_S3_SECRET_KEY"),
            "default_acl": None,
            "file_overwrite": False,
        },
    }
elif STORAGE_BACKEND != "local":
    raise ImproperlyConfigured("OCTOPUSHX_STORAGE must be 'local' or 's3'")
MAX_UPLOAD_BYTES = env_int("OCTOPUSHX_MAX_UPLOAD_MB", 512) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# `octopushx serve` closes a connection that sends nothing for this long (a body that never
# comes, an idle keep-alive); the body limits above are applied there before a body is read.
REQUEST_READ_TIMEOUT = env_int("OCTOPUSHX_REQUEST_READ_TIMEOUT", 30)

# --- crm: limits of an imported file (checked by the import job, never inside a request)
CRM_IMPORT_MAX_BYTES = env_int("OCTOPUSHX_IMPORT_MAX_MB", 100) * 1024 * 1024
CRM_IMPORT_MAX_UNCOMPRESSED_BYTES = env_int("OCTOPUSHX_IMPORT_MAX_UNCOMPRESSED_MB", 1024) * 1024 * 1024
CRM_IMPORT_MAX_ROWS = env_int("OCTOPUSHX_IMPORT_MAX_ROWS", 1_000_000)
CRM_IMPORT_MAX_CELL_CHARS = env_int("OCTOPUSHX_IMPORT_MAX_CELL_CHARS", 131_072)

# --- calls: speech model (loaded once per worker process), optional LLM, recording fetches
# The same reading of OCTOPUSHX_ASR_* / OCTOPUSHX_LLM_* as `octopushx analyze`, so the processing
# job and the command analyse a file with the same settings (see intelligence.config).
try:
    CALLS_ANALYSIS = _analysis_settings_from_environment(os.environ)
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from exc
CALLS_FETCH_TIMEOUT = float(env("OCTOPUSHX_FETCH_TIMEOUT", "20"))
CALLS_FETCH_DEADLINE = float(env("OCTOPUSHX_FETCH_DEADLINE", "600"))
CALLS_FETCH_ATTEMPTS = env_int("OCTOPUSHX_FETCH_ATTEMPTS", 3)
CALLS_FETCH_BACKOFF = 2.0
CALLS_DEMO_CALLS = env_int("OCTOPUSHX_DEMO_CALLS", 12)

# --- outbound requests (recording fetches, later Studio steps and webhooks): core/outbound.py
# Only public internet addresses, unless allowed here. OCTOPUSHX_FETCH_ALLOW_PRIVATE is the
# older name of the switch and is still read.
OUTBOUND_ALLOW_PRIVATE = env_bool("OCTOPUSHX_OUTBOUND_ALLOW_PRIVATE", env_bool("OCTOPUSHX_FETCH_ALLOW_PRIVATE", False))
OUTBOUND_ALLOW = [entry.strip() for entry in (env("OCTOPUSHX_OUTBOUND_ALLOW", "") or "").split(",") if entry.strip()]


def _allow_entry_port(entry: str) -> str | None:
    if entry.startswith("["):  # [2001:db8::1]:8080
        rest = entry.partition("]")[2]
        return rest[1:] if rest else None
    return entry.partition(":")[2] if entry.count(":") == 1 else None


for _entry in OUTBOUND_ALLOW:
    _port = _allow_entry_port(_entry)
    if _port is not None and not (_port.isdigit() and 0 < int(_port) < 65536):
        raise ImproperlyConfigured(f"OCTOPUSHX_OUTBOUND_ALLOW: {_entry!r} needs a port number after ':'")

# Master key: base64 of 32 random bytes. Without it, one is generated into the data
# folder on first run (embedded use); production must set it (or a file path).
MASTER_KEY = env("OCTOPUSHX_MASTER_KEY")
MASTER_KEY_FILE = env("OCTOPUSHX_MASTER_KEY_FILE", str(DATA_DIR / "master.key"))
if PRODUCTION and not (MASTER_KEY or env("OCTOPUSHX_MASTER_KEY_FILE")):
    raise ImproperlyConfigured("OCTOPUSHX_MASTER_KEY or OCTOPUSHX_MASTER_KEY_FILE must be set in production")

# --- jobs -----------------------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
JOB_LEASE_SECONDS = env_int("OCTOPUSHX_JOB_LEASE_SECONDS", 300)
JOB_MAX_ATTEMPTS = env_int("OCTOPUSHX_JOB_MAX_ATTEMPTS", 5)
JOB_MODULES = [m for m in (env("OCTOPUSHX_JOB_MODULES", "") or "").split(",") if m]
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": env("OCTOPUSHX_QUEUE_NAME", "octopushx"),
        "url": REDIS_URL,
        "immediate": False,
        "consumer": {"workers": env_int("OCTOPUSHX_WORKER_THREADS", 2), "worker_type": "thread"},
    }
elif TESTING:
    # Each test process keeps its deliveries to itself (tests run jobs with jobs.drain());
    # the SQLite store is exercised by the worker processes tests/core/test_worker_crash.py starts.
    HUEY = {"huey_class": "huey.MemoryHuey", "name": "octopushx", "immediate": False}
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "octopushx",
        "filename": str(DATA_DIR / "jobs.sqlite3"),
        "immediate": False,
        "consumer": {"workers": env_int("OCTOPUSHX_WORKER_THREADS", 2), "worker_type": "thread"},
    }
# How often each consumer process (serve, worker) re-enqueues work whose lease expired.
JOB_REAPER_SECONDS = env_int("OCTOPUSHX_REAPER_SECONDS", 60)

# --- Octopush Studio: workflow runs ------------------------------------------------------
# Private, loopback and link-local targets for HTTP steps only when set (on-premise use, tests).
# Billing (plans, seats, entitlements, the Billing page and /api/v1/billing): off, every
# organisation has every feature with no limits and no billing screens.
BILLING_ENABLED = env_bool("OCTOPUSHX_BILLING", False)
# Days after a period ends during which its invoice stays a draft (late usage lands on it).
BILLING_GRACE_DAYS = env_int("OCTOPUSHX_BILLING_GRACE_DAYS", 3)
# Dunning: an invoice is due this many days after it is issued; reminders go out 1, 7 and 14 days
# after the due date, and the organisation is suspended (reason non-payment) this many days after it.
BILLING_PAYMENT_TERMS_DAYS = env_int("OCTOPUSHX_BILLING_PAYMENT_TERMS_DAYS", 14)
BILLING_SUSPEND_AFTER_DAYS = env_int("OCTOPUSHX_BILLING_SUSPEND_AFTER_DAYS", 21)
if BILLING_PAYMENT_TERMS_DAYS < 0 or BILLING_SUSPEND_AFTER_DAYS < 1:
    raise ImproperlyConfigured(
        "OCTOPUSHX_BILLING_PAYMENT_TERMS_DAYS must be 0 or more and OCTOPUSHX_BILLING_SUSPEND_AFTER_DAYS 1 or more"
    )


# Card payment through Stripe: offered when billing is on and a secret key is set (else bank transfer only).
STRIPE_SECRET_KEY = env("OCTOPUSHX_STRIPE_SECRET_KEY", "") or ""
STRIPE_WEBHOOK_SECRET = env("OCTOPUSHX_STRIPE_WEBHOOK_SECRET", "") or ""
STRIPE_API_BASE = env("OCTOPUSHX_STRIPE_API_BASE", "") or ""  # a fake or proxy instead of https://api.stripe.com

# Cloud telephony's provider SDKs at another address (a local fake, a proxy); empty: the providers' own.
# Twilio: a base URL replacing https://api.twilio.com. Vonage: host[:port] for api.nexmo.com and
# rest.nexmo.com (the SDK always speaks https; REQUESTS_CA_BUNDLE trusts a fake's certificate).
TWILIO_API_BASE = env("OCTOPUSHX_TWILIO_API_BASE", "") or ""
VONAGE_API_HOST = env("OCTOPUSHX_VONAGE_API_HOST", "") or ""
VONAGE_REST_HOST = env("OCTOPUSHX_VONAGE_REST_HOST", "") or ""
TELEPHONY_API_TIMEOUT = float(env("OCTOPUSHX_TELEPHONY_API_TIMEOUT", "10"))  # seconds per provider API call

STUDIO_ALLOW_PRIVATE_URLS = env_bool("OCTOPUSHX_STUDIO_ALLOW_PRIVATE_URLS", False)
STUDIO_HTTP_TIMEOUT = float(env("OCTOPUSHX_STUDIO_HTTP_TIMEOUT", "10"))
STUDIO_STEP_ATTEMPTS = env_int("OCTOPUSHX_STUDIO_STEP_ATTEMPTS", 3)  # tries of a step before its run fails
STUDIO_RETRY_SECONDS = env_int("OCTOPUSHX_STUDIO_RETRY_SECONDS", 30)  # first back-off; doubles each attempt
STUDIO_ORG_CONCURRENCY = env_int("OCTOPUSHX_STUDIO_ORG_CONCURRENCY", 4)  # running runs per organisation
STUDIO_TICK_SECONDS = float(env("OCTOPUSHX_STUDIO_TICK_SECONDS", "10"))  # one delivery's time budget
STUDIO_RUN_RETENTION_DAYS = env_int("OCTOPUSHX_STUDIO_RUN_RETENTION_DAYS", 90)
STUDIO_RUN_MAX_PER_ORG = env_int("OCTOPUSHX_STUDIO_RUN_MAX_PER_ORG", 200_000)
STUDIO_AI_ATTEMPTS = env_int("OCTOPUSHX_STUDIO_AI_ATTEMPTS", 3)  # LLM answers tried against the schema

# --- cloud telephony: live call events (the caller card) ----------------------------------
# Each open event stream holds a server thread, so a stream lives LIVE_STREAM_SECONDS and the browser
# reconnects; a process keeps at most LIVE_MAX_STREAMS open (`octopushx serve` lowers it to leave a quarter
# of its threads for ordinary requests); beyond it browsers poll every LIVE_POLL_SECONDS instead.
# (3 s under tests: a test client reads a stream to its end.)
LIVE_STREAM_SECONDS = float(env("OCTOPUSHX_LIVE_STREAM_SECONDS", "3" if TESTING else "25"))
LIVE_HEARTBEAT_SECONDS = float(env("OCTOPUSHX_LIVE_HEARTBEAT_SECONDS", "10"))
LIVE_MAX_STREAMS = env_int("OCTOPUSHX_LIVE_STREAMS", 48)
LIVE_POLL_SECONDS = env_int("OCTOPUSHX_LIVE_POLL_SECONDS", 4)

# --- cache: rate-limit counters (shared by every process when Redis is configured) ---
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("OCTOPUSHX_QUEUE_NAME", "octopushx"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "octopushx"}}

# --- security headers (strict in production; check --deploy is clean) ------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("OCTOPUSHX_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("OCTOPUSHX_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]

# --- logging: JSON lines with the request id in production, short text lines in development --------
LOG_LEVEL = env("OCTOPUSHX_LOG_LEVEL", "INFO")
LOG_FORMAT = env("OCTOPUSHX_LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"OCTOPUSHX_LOG_FORMAT must be json or text, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "octopushx.core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "octopushx.core.logging.JsonFormatter"},
        "text": {"()": "octopushx.core.logging.TextFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        # Huey says "Executing …" and "… executed in" for every task, the once-a-minute reminder scan
        # included; our jobs log one line when they finish, so a person reading the console sees what
        # happened, not the scheduler ticking. Production (JSON) keeps Huey's lines.
        "huey": {"level": "WARNING" if TESTING or LOG_FORMAT == "text" else "INFO"},
        # One "Processing audio with duration …" line per call; the job's own line says it was analysed.
        "faster_whisper": {"level": "WARNING" if LOG_FORMAT == "text" else "INFO"},
        "axes": {"level": "WARNING"},
        # The SDK logs every request at INFO; billing logs what matters (failures, reconciliation alerts).
        "stripe": {"level": "WARNING"},
        # The telephony SDKs log each request (Vonage with its headers at DEBUG); errors are logged by us.
        "twilio": {"level": "WARNING"},
        "vonage": {"level": "WARNING"},
    },
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

API_RATE_LIMIT_PER_MINUTE = env_int("OCTOPUSHX_API_RATE_LIMIT", 600)
# Fixed-window limits per client IP (and per API token); 429 with Retry-After beyond them.
# Off by default under tests, which share one client address; the limit tests turn them on.
RATE_LIMITS_ENABLED = env_bool("OCTOPUSHX_RATE_LIMITS", not TESTING)
RATE_LIMIT_WINDOW_SECONDS = env_int("OCTOPUSHX_RATE_LIMIT_WINDOW", 60)
API_IP_RATE_LIMIT = env_int("OCTOPUSHX_API_IP_RATE_LIMIT", 1200)
SIGN_IN_RATE_LIMIT = env_int("OCTOPUSHX_SIGN_IN_RATE_LIMIT", 20)
PUBLIC_FORM_RATE_LIMIT = env_int("OCTOPUSHX_PUBLIC_FORM_RATE_LIMIT", 10)
# A same-origin analytics script, loaded on public pages only after the visitor consents.
ANALYTICS_SCRIPT_URL = env("OCTOPUSHX_ANALYTICS_SCRIPT", "")
# Honour X-Forwarded-For only behind a proxy you control.
TRUST_PROXY = env_bool("OCTOPUSHX_TRUST_PROXY", False)
