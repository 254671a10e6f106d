"""Kauko settings, read from the environment.

Defaults give the embedded set-up of `make run`: SQLite, no broker (tasks run in-process
after commit), e-mail printed to the console. Production points DATABASE_URL at PostgreSQL,
CELERY_BROKER_URL at Redis and EMAIL_URL-style variables at an SMTP server.
"""

import datetime
import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise RuntimeError("SECRET_KEY must be set when DEBUG is off.")
    # Only for the local demo; production refuses to start without a real key.
    SECRET_KEY = "kauko-insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# The base URL other systems use to reach this deployment (ISO 18626 endpoint, links in
# letters). The demo serves on 127.0.0.1:8000.
KAUKO_BASE_URL = os.environ.get("KAUKO_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Partners' ISO 18626 endpoints at loopback or private addresses (the demo's partners live on
# 127.0.0.1): allowed in development, refused in production unless switched on.
KAUKO_ALLOW_PRIVATE_PARTNER_ENDPOINTS = env_bool("KAUKO_ALLOW_PRIVATE_PARTNER_ENDPOINTS", DEBUG)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "django_celery_beat",
    "axes",  # login throttling: see AXES_* below
    "csp",  # Content-Security-Policy: see CONTENT_SECURITY_POLICY below
    # Ours, from the bottom of the import ladder up (see the README's layout section).
    "kauko",
    "fulfillment",
    "partners",
    "patrons",
    "circulation",
    "ill",
    "portal",
    "reports",
    "workbench",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.PartnerEndpointMiddleware",  # before the staff-facing ones: see there
    "kauko.uploads.UploadSizeMiddleware",  # 413 for a body far over KAUKO_MAX_UPLOAD_BYTES
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lockout into the 429 page
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kauko.context_processors.institution",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several staff (and the in-process task runner) write at once; wait instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "kauko.StaffUser"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (django-axes), for the login page, the admin's and the API's Basic auth:
# after AXES_FAILURE_LIMIT wrong passwords for one account from one address, that pair is
# locked for AXES_COOLOFF_TIME. The address is REMOTE_ADDR (see the README's Security section).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("KAUKO_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(
    minutes=int(os.environ.get("KAUKO_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.views.login_locked_out"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fi", _("Finnish")), ("sv", _("Swedish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# Our English short dates (config/formats/en): ISO, not American.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Helsinki")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "var" / "static"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
# The largest file staff may upload (a copy for a patron or a partner), in MiB.
KAUKO_MAX_UPLOAD_BYTES = int(os.environ.get("KAUKO_MAX_UPLOAD_MB", "25")) * 1024 * 1024
# Serve static files straight from the finders in the demo so no collectstatic is needed.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

# E-mail: console by default; EMAIL_BACKEND=smtp plus EMAIL_HOST etc. for a real server,
# EMAIL_BACKEND=file plus EMAIL_FILE_PATH to keep letters as files.
_email_backends = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
}
_email_backend = os.environ.get("EMAIL_BACKEND", "console")
EMAIL_BACKEND = _email_backends.get(_email_backend, _email_backend)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(BASE_DIR / "var" / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "kauko@localhost")

# Celery: with a broker, tasks go to workers; without one they run eagerly in-process
# (kauko.tasks.enqueue still defers them until the surrounding transaction commits).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 3, "max_retries": 1}
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE: dict = {
    # Circulation (circulation/tasks.py): each job is safe to run again at any time.
    "desk-expire-hold-shelf": {"task": "circulation.expire_hold_shelf",
                               "schedule": crontab(hour=0, minute=30)},
    "desk-auto-renew-ill-loans": {"task": "circulation.auto_renew_ill_loans",
                                  "schedule": crontab(hour=1, minute=0)},
    "desk-due-date-reminders": {"task": "circulation.send_due_date_reminders",
                                "schedule": crontab(hour=7, minute=0)},
    "desk-overdue-notices": {"task": "circulation.send_overdue_notices",
                             "schedule": crontab(hour=7, minute=30)},
    # ISO 18626 outbox: resend what never reached the broker or a worker that died.
    "iso18626-sweep-outbox": {"task": "ill.iso18626_sweep", "schedule": 60.0},
    # Letters (kauko/letters.py): send queued letters the broker never took.
    "letters-sweep": {"task": "kauko.sweep_letters", "schedule": 60.0},
    # Borrowing (ill/borrowing/tasks.py): unanswered requests move on or expire, as each
    # partner's borrowing profile says.
    "borrowing-expire-unanswered": {"task": "ill.expire_borrowing_requests",
                                    "schedule": crontab(hour=0, minute=40)},
    # Lending (ill/lending/tasks.py), each switched on per partner by its lending workflow profile.
    "lending-expire-unanswered": {"task": "ill.expire_lending_requests",
                                  "schedule": crontab(hour=0, minute=45)},
    "lending-auto-renew": {"task": "ill.auto_renew_lending",
                           "schedule": crontab(minute="*/30")},
    "lending-overdue-notices": {"task": "ill.send_lending_overdue_notices",
                                "schedule": crontab(hour=8, minute=0)},
    # Partner endpoint (ill/inbound/tasks.py): ISO 18626 traffic past its retention
    # (ISO18626_RETENTION_DAYS, ISO18626_UNATTRIBUTED_RETENTION_DAYS) is deleted.
    "iso18626-prune-traffic": {"task": "ill.prune_iso_traffic",
                               "schedule": crontab(hour=3, minute=15)},
    # Automation (ill/borrowing/autosend.py, ill/lending/automation.py): each reads its own
    # setting in the institution's automation settings.
    "borrowing-auto-send-sweep": {"task": "ill.auto_send_sweep", "schedule": 300.0},
    "borrowing-chase-silent-partners": {"task": "ill.chase_silent_partners",
                                        "schedule": crontab(hour=6, minute=0)},
    "borrowing-condition-reply-by": {"task": "ill.warn_condition_reply_by",
                                     "schedule": crontab(hour=6, minute=10)},
    "lending-unanswered-flag": {"task": "ill.flag_unanswered_lending",
                                "schedule": crontab(hour=6, minute=20)},
    "lending-condition-reply-by": {"task": "ill.warn_lending_condition_reply_by",
                                   "schedule": crontab(hour=6, minute=30)},
}

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "kauko.authentication.ThrottledBasicAuthentication",  # counted by django-axes
    ],
    "DEFAULT_PERMISSION_CLASSES": ["kauko.permissions.IsInstitutionStaff"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kauko API",
    "DESCRIPTION": "Resource sharing (interlibrary loan) back office",
    "VERSION": "0.1.0",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],  # no anonymous schema
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

if not DEBUG:
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    # HTTPS, HSTS: below, with the production server's settings.

# Content-Security-Policy (django-csp 4 format), in development too so that tests and the
# demo meet it: our own scripts only, never inline ones (templates use data-* attributes and
# static/kauko/*.js); inline styles stay allowed because letters and slips carry their own.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [SELF],
    },
}

# Patrons' campus single sign-on (OpenID Connect, mozilla-django-oidc; see portal/oidc.py).
# Offered on the portal's sign-in page only when the provider, the client and the institution
# are set. PORTAL_OIDC_CLAIM names the claim that holds a patron's card number or identifier.
OIDC_RP_CLIENT_ID = os.environ.get("OIDC_RP_CLIENT_ID", "")
OIDC_RP_CLIENT_SECRET = os.environ.get("OIDC_RP_CLIENT_SECRET", "")
OIDC_OP_AUTHORIZATION_ENDPOINT = os.environ.get("OIDC_OP_AUTHORIZATION_ENDPOINT", "")
OIDC_OP_TOKEN_ENDPOINT = os.environ.get("OIDC_OP_TOKEN_ENDPOINT", "")
OIDC_OP_USER_ENDPOINT = os.environ.get("OIDC_OP_USER_ENDPOINT", "")
OIDC_OP_JWKS_ENDPOINT = os.environ.get("OIDC_OP_JWKS_ENDPOINT", "")
OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_RP_SIGN_ALGO", "RS256")
OIDC_RP_SCOPES = os.environ.get("OIDC_RP_SCOPES", "openid email profile")
# A provider with a single signing key may leave "kid" out of its tokens: then set it false.
OIDC_VERIFY_KID = env_bool("OIDC_VERIFY_KID", True)
OIDC_AUTHENTICATION_CALLBACK_URL = "portal:oidc_callback"
PORTAL_OIDC_CLAIM = os.environ.get("PORTAL_OIDC_CLAIM", "sub")
PORTAL_OIDC_INSTITUTION = os.environ.get("PORTAL_OIDC_INSTITUTION", "")  # its code, e.g. OTA

# The production server (config.asgi under gunicorn's uvicorn workers) runs each request's
# views in a thread of its own, so connections kept per thread would pile up: a pool per
# process keeps them instead (PostgreSQL only; DATABASE_POOL=true, as deploy/kauko.env says).
if env_bool("DATABASE_POOL", False) and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DATABASE_POOL_MIN_SIZE", "2")),
        "max_size": int(os.environ.get("DATABASE_POOL_MAX_SIZE", "10")),
        "timeout": int(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
    }

if not DEBUG:
    # HTTPS only (deploy/nginx/kauko.conf terminates TLS; uvicorn takes the scheme from its
    # X-Forwarded-Proto, trusted from FORWARDED_ALLOW_IPS only). deploy/kauko.env sets them.
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # The load balancer's health check asks the server itself, over plain HTTP.
    SECURE_REDIRECT_EXEMPT = env_list("SECURE_REDIRECT_EXEMPT", "^healthz$")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
