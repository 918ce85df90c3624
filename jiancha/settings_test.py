"""Test settings: only the overrides STYLE.md §8 allows."""

from jiancha.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# A file (not in-memory) test database, so that DuckDB and the live server can open it.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(DATABASES["default"]["NAME"]) + ".test"}  # noqa: F405

# Tests assert on the English msgids; the product's default stays zh-hans (settings.py), which
# jiancha/core/tests/test_i18n.py checks, and scripts/check_translations.py keeps the Chinese
# catalogue complete.
LANGUAGE_CODE = "en"
