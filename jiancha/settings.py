"""jiancha settings: one environment-driven file (STYLE.md §8).

Zero configuration gives SQLite at ``var/jiancha.sqlite3``. ``DATABASE_URL`` switches the
database, e.g. ``postgres://postgres@127.0.0.1:5432/jiancha`` or ``sqlite:///path``.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("JIANCHA_VAR_DIR", BASE_DIR.parent / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_secret(name: str, default: str | None = None) -> str | None:
    """Read a secret from ``NAME`` or from the file named by ``NAME_FILE``."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        return Path(file_name).read_text(encoding="utf-8").strip()
    return os.environ.get(name, default)


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and env_bool("JIANCHA_PRODUCTION", False):
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) must be set in production.")
    SECRET_KEY = "jiancha-insecure-development-key-change-me"  # noqa: S105

ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "django_htmx",
    "jiancha.core",
    "jiancha.accounts",
    "jiancha.law",
    "jiancha.cases",
    "jiancha.analytics",
    "jiancha.quality",
    "jiancha.indicators",
    "jiancha.reviews",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "jiancha.urls"
WSGI_APPLICATION = "jiancha.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "cases:case_list"
LOGOUT_REDIRECT_URL = "login"

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
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'jiancha.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        "PRAGMA cache_size=-200000; PRAGMA mmap_size=1073741824; PRAGMA temp_store=MEMORY;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0 if env_bool("JIANCHA_SQLITE_NO_PERSIST") else 600
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = ["jiancha.accounts.lockout.LockoutModelBackend"]
# Login failure handling: this many failed logins of one username within the window (seconds)
# lock it until the oldest leaves the window.
LOGIN_FAILURE_LIMIT = env_int("JIANCHA_LOGIN_FAILURE_LIMIT", 5)
LOGIN_FAILURE_WINDOW = env_int("JIANCHA_LOGIN_FAILURE_WINDOW", 15 * 60)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]

TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}

# Called (dotted paths) after cases are imported or changed: cases may not import the apps
# above it, so they register here (jiancha.cases.services.notify_cases_changed).
CASES_CHANGED_HOOKS = ["jiancha.quality.services.cases_changed"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "jiancha.core.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "jiancha API",
    "DESCRIPTION": "检察 case registry and quality API",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Where the public reference data lives (tests and benchmarks only; never needed at run time).
SHARED_DATA_DIR = Path(os.environ.get("JIANCHA_SHARED_DATA", BASE_DIR.parent.parent / "shared" / "data"))

MODEL_DIR = Path(os.environ.get("JIANCHA_MODEL_DIR", VAR_DIR / "models"))
ANALYTICS_SNAPSHOT = Path(os.environ.get("JIANCHA_ANALYTICS_SNAPSHOT", VAR_DIR / "analytics.duckdb"))
# Where bulk quality evaluations keep what they derive from the event log, one DuckDB file
# per operational database (jiancha.quality.rules.eventfacts); JIANCHA_EVENT_FACTS_DIR=""
# turns the store off.
_EVENT_FACTS_DIR = os.environ.get("JIANCHA_EVENT_FACTS_DIR", str(VAR_DIR / "event-facts"))
QUALITY_EVENT_FACTS_DIR = Path(_EVENT_FACTS_DIR) if _EVENT_FACTS_DIR else None

SITE_TITLE = _("jiancha case quality platform")
