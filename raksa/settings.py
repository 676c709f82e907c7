"""Raksa's one settings module. Everything that varies comes from the environment (see docs/CONFIGURATION.md)."""

import os
from pathlib import Path

import fontpkg_sarabun
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP  # type: ignore[import-not-found,unused-ignore]
from django.utils.translation import gettext_lazy as _

from raksa import devkeys
from raksa.env import database_from_url, env_bool, env_choice, env_int, env_list, env_networks, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("RAKSA_VAR_DIR", str(BASE_DIR / "var")))

RAKSA_ENV = env_choice("RAKSA_ENV", "development", {"development", "production"})
PRODUCTION = RAKSA_ENV == "production"
DEBUG = env_bool("DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when RAKSA_ENV=production")


def _key(name: str) -> str:
    value = env_str(name)
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} is required when RAKSA_ENV=production (see `raksa keys generate`)")
    return _DEV_KEYS[name]


_DEV_KEYS = {} if PRODUCTION else devkeys.load_or_create(VAR_DIR / "dev-keys.env")

SECRET_KEY = _key("RAKSA_SECRET_KEY")
RAKSA_MASTER_KEY = _key("RAKSA_MASTER_KEY")
# Earlier master keys, kept only until `raksa keys rotate` has re-wrapped every data key.
RAKSA_PREVIOUS_MASTER_KEYS = env_list("RAKSA_PREVIOUS_MASTER_KEYS", [])
RAKSA_INDEX_KEY = _key("RAKSA_INDEX_KEY")
# Earlier index keys, kept only until `raksa keys rotate-index` has recomputed every blind index.
RAKSA_PREVIOUS_INDEX_KEYS = env_list("RAKSA_PREVIOUS_INDEX_KEYS", [])
RAKSA_AUDIT_SIGNING_KEY = _key("RAKSA_AUDIT_SIGNING_KEY")
# How the staff gateway asks whether this session passed the second factor (the accounts app
# answers; the core names it here rather than importing a feature app).
RAKSA_STAFF_SECOND_FACTOR_CHECK = "raksa.accounts.mfa.passed_second_factor"
# What the audit log asks before recording during a request: can the request's access record be
# written? If not, it refuses, and the action with it (the access log answers; fail closed).
RAKSA_AUDIT_ACCESS_RECORD_CHECK = "raksa.accesslog.spool.capture_problem"
RAKSA_AUDIT_CHECKPOINT_FILE = Path(env_str("RAKSA_AUDIT_CHECKPOINT_FILE", str(VAR_DIR / "audit-checkpoints.jsonl")))

# Proxies in front of Raksa (load balancer, nginx) whose X-Forwarded-For is believed: addresses or
# CIDR networks. Empty: the client is the peer (REMOTE_ADDR). See raksa/core/clients.py.
RAKSA_TRUSTED_PROXIES = env_networks("RAKSA_TRUSTED_PROXIES")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when RAKSA_ENV=production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "raksa.accounts.apps.SecondFactorAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "raksa.core",
    # After raksa.core, whose db_worker (theirs, kept running through a database restart) takes the name.
    "django_tasks_db",
    "raksa.organisations",
    "raksa.subjects",
    "raksa.accounts",
    "raksa.registry",
    "raksa.vault",
    "raksa.audit",
    "raksa.consent",
    "raksa.content",
    "raksa.accesslog",
    "raksa.services",
    "raksa.disclosures",
    "raksa.rights",
    "raksa.api",
    # Only for the interactive API documentation's own script and style files (served from this site).
    "ninja",
    "raksa.retention",
]

MIDDLEWARE = [
    # First: it times the whole stack and records the final status of every request (C2).
    "raksa.accesslog.middleware.AccessLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Outside everything that may replace a response (the API's problem documents): every answer says DENY.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "raksa.audit.context.RequestIdMiddleware",
    # Outermost of everything that sets cookies: it lets through only the allowed ones (K1).
    "raksa.consent.middleware.CookieGateMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Inside the locale middleware: every error under /api/ as a problem document in the person's language.
    "raksa.api.middleware.problem_documents",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Public pages for anonymous visitors read from DATABASE_REPLICA_URL, if one is set.
    "raksa.core.replica.ReplicaReadsMiddleware",
    "raksa.vault.middleware.vault_session_middleware",
    "raksa.accounts.middleware.SessionPolicyMiddleware",
    "raksa.accounts.middleware.PrivateResponseMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "raksa.urls"
WSGI_APPLICATION = "raksa.wsgi.application"

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
                "raksa.core.context_processors.site",
                "raksa.consent.context_processors.consent",
                "raksa.content.context_processors.appearance",
            ],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": database_from_url("DATABASE_URL", env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'raksa.sqlite3'}")),
    # The vault's data keys live apart from the data, so that destroying a key also erases the
    # data it sealed from every backup of the main database.
    "keystore": database_from_url(
        "RAKSA_KEYSTORE_URL", env_str("RAKSA_KEYSTORE_URL", f"sqlite:///{VAR_DIR / 'keystore.sqlite3'}")
    ),
}
# A PostgreSQL streaming replica of the main database, for the public pages' reads (raksa.core.replica).
if env_str("DATABASE_REPLICA_URL", ""):
    DATABASES["replica"] = database_from_url("DATABASE_REPLICA_URL", env_str("DATABASE_REPLICA_URL", ""))
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
# How long the operator keeps the key store's backups (daily, rotated). Erasing a person destroys
# their keys, so this is how long after an erasure they can still be restored from a backup; the
# privacy policy and docs/privacy-core.md state it. Backups of the key store must not be kept longer.
RAKSA_KEYSTORE_BACKUP_DAYS = env_int("RAKSA_KEYSTORE_BACKUP_DAYS", 7, minimum=1)
for _alias, _database in DATABASES.items():
    if _database["ENGINE"].endswith("sqlite3") and not Path(_database["NAME"]).is_absolute():
        _database["NAME"] = str(BASE_DIR / _database["NAME"])
# In production each server thread keeps its PostgreSQL connections between requests (checked before
# reuse, so a restarted server is reconnected to by the next request): opening one costs PostgreSQL
# ≈6 ms of CPU and the worker ≈1 ms, twice per request with the key store (`raksa bench load`).
# Workers x threads x 2 connections must fit PostgreSQL's max_connections (docs/DEPLOY.md).
RAKSA_DB_CONNECTION_SECONDS = env_int("RAKSA_DB_CONNECTION_SECONDS", 300 if PRODUCTION else 0, minimum=0)
for _database in DATABASES.values():
    if _database["ENGINE"].endswith("postgresql"):
        _database["CONN_MAX_AGE"] = RAKSA_DB_CONNECTION_SECONDS
        _database["CONN_HEALTH_CHECKS"] = True
DATABASE_ROUTERS = ["raksa.core.replica.ReplicaRouter", "raksa.vault.routers.KeystoreRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["raksa.accounts.backends.AccountBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:account"

LANGUAGE_CODE = "th"
LANGUAGES = [("th", _("Thai")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Bangkok"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG
# The Thai web font comes from a registry package, served from our own origin.
STATICFILES_DIRS = [BASE_DIR / "static", ("fonts", Path(fontpkg_sarabun.__file__).parent / "files")]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Uploaded pictures and videos (published content only: never personal data).
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("RAKSA_MEDIA_DIR", str(VAR_DIR / "media")))
# How long anonymous visitors may be served a public page rendered earlier (raksa.core.caching).
RAKSA_PUBLIC_PAGE_SECONDS = env_int("RAKSA_PUBLIC_PAGE_SECONDS", 30, minimum=0)
# PyThaiNLP (Thai word segmentation for search) keeps its data under var/, not in ~, and never downloads.
os.environ.setdefault("PYTHAINLP_DATA", str(VAR_DIR / "pythainlp-data"))
os.environ.setdefault("PYTHAINLP_OFFLINE", "1")
# The access log (docs/accesslog.md). The Computer-Related Crime Act s26 requires at least 90 days.
RAKSA_ACCESSLOG_RAW_DAYS = env_int("RAKSA_ACCESSLOG_RAW_DAYS", 90, minimum=90)
RAKSA_ACCESSLOG_SPOOL_DIR = Path(env_str("RAKSA_ACCESSLOG_SPOOL_DIR", str(VAR_DIR / "accesslog-spool")))
RAKSA_ACCESSLOG_SPOOL_MIN_FREE_BYTES = env_int("RAKSA_ACCESSLOG_SPOOL_MIN_FREE_BYTES", 64 * 1024 * 1024, minimum=0)
RAKSA_ACCESSLOG_QUERY_ALLOWLIST = env_list("RAKSA_ACCESSLOG_QUERY_ALLOWLIST", ["page", "start", "end", "format"])
RAKSA_ACCESSLOG_SKIP_PREFIXES = env_list("RAKSA_ACCESSLOG_SKIP_PREFIXES", [STATIC_URL])

TASKS = {
    "default": {
        "BACKEND": env_str("RAKSA_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Raksa <no-reply@raksa.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
_smtp_host = env_str("RAKSA_SMTP_HOST")
if _smtp_host:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": _smtp_host,
                "port": env_int("RAKSA_SMTP_PORT", 587, minimum=1),
                "username": env_str("RAKSA_SMTP_USER") or None,
                "password": env_str("RAKSA_SMTP_PASSWORD") or None,
                "use_tls": env_bool("RAKSA_SMTP_STARTTLS", default=PRODUCTION),
                "timeout": 10,
            },
        }
    }
elif PRODUCTION:
    raise ImproperlyConfigured("RAKSA_SMTP_HOST is required when RAKSA_ENV=production")
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(VAR_DIR / "mail")},
        }
    }

# Length 8 to 128 and no composition rules (NIST SP 800-63B, OWASP ASVS 5.0 6.2).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "raksa.accounts.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "raksa.accounts.validators.PreviousPasswordValidator", "OPTIONS": {"remembered": 5}},
]
PASSWORD_HASHERS = ["raksa.accounts.hashers.Argon2idHasher"]
CSRF_FAILURE_VIEW = "raksa.accounts.views.csrf_failure"
OTP_TOTP_ISSUER = "Raksa"

# Accounts (docs/accounts.md): sessions, log-in throttling, links sent by e-mail.
SESSION_ENGINE = "raksa.accounts.sessions"
RAKSA_SESSION_IDLE_MINUTES = env_int("RAKSA_SESSION_IDLE_MINUTES", 30, minimum=1)
RAKSA_SESSION_ABSOLUTE_HOURS = env_int("RAKSA_SESSION_ABSOLUTE_HOURS", 12, minimum=1)
RAKSA_STAFF_SESSION_IDLE_MINUTES = env_int("RAKSA_STAFF_SESSION_IDLE_MINUTES", 15, minimum=1)
RAKSA_STAFF_SESSION_ABSOLUTE_HOURS = env_int("RAKSA_STAFF_SESSION_ABSOLUTE_HOURS", 8, minimum=1)
SESSION_COOKIE_AGE = RAKSA_SESSION_IDLE_MINUTES * 60
RAKSA_LOGIN_SLOW_AFTER = env_int("RAKSA_LOGIN_SLOW_AFTER", 3, minimum=1)
RAKSA_LOGIN_LOCK_AFTER = env_int("RAKSA_LOGIN_LOCK_AFTER", 10, minimum=2)
RAKSA_LOGIN_LOCK_MINUTES = env_int("RAKSA_LOGIN_LOCK_MINUTES", 15, minimum=1)
# A failed log-in answers no sooner than this: verifying an older, dearer hash (made before the
# parameters changed, kept until its owner's next log-in) would otherwise take longer than the
# stand-in verification spent for an unknown account, and tell that the account exists.
RAKSA_LOGIN_FAILURE_MS = env_int("RAKSA_LOGIN_FAILURE_MS", 100, minimum=0)
RAKSA_RESET_LINK_MINUTES = env_int("RAKSA_RESET_LINK_MINUTES", 60, minimum=5)
RAKSA_CONFIRM_LINK_HOURS = env_int("RAKSA_CONFIRM_LINK_HOURS", 48, minimum=1)
RAKSA_INVITATION_LINK_HOURS = env_int("RAKSA_INVITATION_LINK_HOURS", 72, minimum=1)
RAKSA_PASSWORD_REMINDER_DAYS = env_int("RAKSA_PASSWORD_REMINDER_DAYS", 365, minimum=1)
# The JSON API for the mobile application (docs/api.md).
RAKSA_APP_TOKEN_HOURS = env_int("RAKSA_APP_TOKEN_HOURS", 720, minimum=1)
RAKSA_APP_TOKEN_IDLE_HOURS = env_int("RAKSA_APP_TOKEN_IDLE_HOURS", 168, minimum=1)
RAKSA_API_REQUESTS_PER_MINUTE = env_int("RAKSA_API_REQUESTS_PER_MINUTE", 120, minimum=1)
RAKSA_API_ACCOUNT_REQUESTS_PER_MINUTE = env_int("RAKSA_API_ACCOUNT_REQUESTS_PER_MINUTE", 10, minimum=1)
# Erasure, closing the account and a full download ask for the password if it is older than this.
RAKSA_REAUTH_MINUTES = env_int("RAKSA_REAUTH_MINUTES", 10, minimum=1)
# Retention of accounts (raksa/accounts/retention.py): never confirmed, or unused, then closed.
RAKSA_UNCONFIRMED_ACCOUNT_DAYS = env_int("RAKSA_UNCONFIRMED_ACCOUNT_DAYS", 30, minimum=1)
RAKSA_INACTIVE_ACCOUNT_DAYS = env_int("RAKSA_INACTIVE_ACCOUNT_DAYS", 3 * 365, minimum=1)
RAKSA_INACTIVE_WARNING_DAYS = env_int("RAKSA_INACTIVE_WARNING_DAYS", 28, minimum=1)
if RAKSA_INACTIVE_WARNING_DAYS >= RAKSA_INACTIVE_ACCOUNT_DAYS:
    raise ImproperlyConfigured("RAKSA_INACTIVE_WARNING_DAYS must be shorter than RAKSA_INACTIVE_ACCOUNT_DAYS")
# Django's own reset tokens are not used, but nothing should live three days.
PASSWORD_RESET_TIMEOUT = 3600

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("RAKSA_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_SECURE = True
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    CSRF_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # One record, one line: CR/LF in a logged value cannot forge a record (raksa.core.logformat).
    "formatters": {
        "plain": {
            "()": "raksa.core.logformat.OneLineFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    # Reset and download links carry tokens: no log line may print them (raksa.accesslog.redaction).
    "filters": {"redact_secrets": {"()": "raksa.accesslog.redaction.RedactingFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": env_choice("RAKSA_LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"}),
    },
    # Django's request logger would print the full URL of every error; personal data never goes
    # in URLs, but tokens in reset links do, so the access log (with redaction) is the record.
    "loggers": {
        "django.request": {"level": "ERROR", "filters": ["redact_secrets"]},
        "django.server": {"level": "WARNING", "filters": ["redact_secrets"]},
    },
}

RAKSA_ADMIN_URL = env_str("RAKSA_ADMIN_URL", "admin/")
