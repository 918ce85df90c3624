"""Login failure handling (登录失败处理, as 等保 2.0 asks): after ``LOGIN_FAILURE_LIMIT`` failed
logins of one username within ``LOGIN_FAILURE_WINDOW`` seconds, that username cannot log in —
on the web form, the admin or the API token endpoint — until the oldest of those failures
leaves the window. Failures are stored (``LoginFailure``), so the lock holds across server
processes; an administrator lifts it early with `jiancha unlock-user USERNAME` (audited).
"""

import datetime
import math
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import ngettext

from jiancha.accounts.models import LoginFailure, User


def _limit() -> int:
    return int(getattr(settings, "LOGIN_FAILURE_LIMIT", 5))


def _window() -> datetime.timedelta:
    return datetime.timedelta(seconds=int(getattr(settings, "LOGIN_FAILURE_WINDOW", 15 * 60)))


def _client_address(request: Any) -> str:
    # REMOTE_ADDR only: a forwarded-for header is the client's to choose.
    meta = getattr(request, "META", None) or {}
    return str(meta.get("REMOTE_ADDR", ""))[:64]


def login_locked_for(username: str) -> int:
    """Seconds until ``username`` may try again; 0 when it is not locked."""
    limit = _limit()
    if not username or limit <= 0:
        return 0
    now = timezone.now()
    recent = list(
        LoginFailure.objects.filter(username=username, at__gt=now - _window())
        .order_by("-at")
        .values_list("at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return 0
    # The lock ends when the oldest of the last `limit` failures leaves the window.
    return max(1, math.ceil((recent[-1] + _window() - now).total_seconds()))


def locked_message(seconds: int) -> str:
    """What a locked user is told (web form and API)."""
    minutes = max(1, (seconds + 59) // 60)
    return ngettext(
        "Too many failed logins for this user. Try again in %(minutes)s minute or ask an administrator.",
        "Too many failed logins for this user. Try again in %(minutes)s minutes or ask an administrator.",
        minutes,
    ) % {"minutes": minutes}


def login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    """``user_login_failed`` receiver: record the failure."""
    username = str(credentials.get("username") or "")[:150]
    if username:
        LoginFailure.objects.create(username=username, remote_addr=_client_address(request), at=timezone.now())


class LockoutModelBackend(ModelBackend):
    """The model backend, refusing a locked username before its password is checked."""

    def authenticate(self, request: Any, username: str | None = None, password: str | None = None, **kwargs: Any) -> Any:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username and login_locked_for(str(username)):
            raise PermissionDenied
        return super().authenticate(request, username=username, password=password, **kwargs)

    def get_user(self, user_id: Any) -> Any:
        # Every request reads the user and then its unit (scopes, menus): one query for both.
        user = User.objects.select_related("unit").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
