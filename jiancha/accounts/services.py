"""Writing to the organisation: creating users and issuing API tokens (STYLE.md §3).

Every write is audited inside the service. Passwords never reach the audit log.
"""

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from jiancha.accounts.choices import Role
from jiancha.accounts.lockout import locked_message, login_locked_for
from jiancha.accounts.models import LoginFailure, Staff, Unit, User
from jiancha.core.audit import audit_record
from jiancha.core.errors import BusinessError


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    unit_code: str,
    role: str,
    actor: Any = None,
    staff_number: str = "",
    email: str = "",
    display_name: str = "",
    is_superuser: bool = False,
) -> User:
    """Create a user of a unit with one role, optionally linked to a staff member.

    The password must pass the configured password validators. A superuser also gets
    access to the admin site (``is_staff``).
    """
    username = (username or "").strip()
    if not username:
        raise BusinessError(_("A username is required."), code="invalid_username")
    try:
        User.username_validator(username)
    except ValidationError as error:
        raise BusinessError(
            " ".join(error.messages), code="invalid_username"
        ) from error
    if User.objects.filter(username__iexact=username).exists():
        raise BusinessError(
            _("A user named “%(username)s” already exists.") % {"username": username},
            code="duplicate_username",
        )
    unit = Unit.objects.filter(code=(unit_code or "").strip()).first()
    if unit is None:
        raise BusinessError(
            _("Unknown unit “%(code)s”: give the org code of a procuratorate.")
            % {"code": unit_code},
            code="unknown_unit",
        )
    if role not in Role.values:
        raise BusinessError(
            _("Unknown role “%(role)s”; choose one of: %(roles)s.")
            % {"role": role, "roles": ", ".join(Role.values)},
            code="unknown_role",
        )
    staff = None
    if staff_number:
        staff = Staff.objects.filter(unit=unit, staff_number=staff_number).first()
        if staff is None:
            raise BusinessError(
                _("Unit %(code)s has no staff member with number %(number)s.")
                % {"code": unit.code, "number": staff_number},
                code="unknown_staff",
            )
        if User.objects.filter(staff=staff).exists():
            raise BusinessError(
                _("Staff member %(number)s already has a user account.")
                % {"number": staff_number},
                code="duplicate_staff",
            )
    user = User(
        username=username,
        email=email,
        unit=unit,
        role=role,
        staff=staff,
        display_name=display_name,
        is_staff=is_superuser,
        is_superuser=is_superuser,
    )
    try:
        validate_password(password, user=user)
    except ValidationError as error:
        raise BusinessError(
            _("The password is too weak: %(reasons)s")
            % {"reasons": " ".join(error.messages)},
            code="weak_password",
        ) from error
    user.set_password(password)
    user.save()
    audit_record(
        actor=actor,
        verb="accounts.user_create",
        target=user,
        details={
            "username": user.username,
            "unit": unit.code,
            "role": role,
            "staff": staff_number,
            "superuser": is_superuser,
        },
    )
    return user


@transaction.atomic
class LoginLocked(BusinessError):
    """Too many failed logins for this username (``lockout``); the API answers 429."""

    code = "login_locked"
    status = 429

    def __init__(self, message: str, *, seconds: int) -> None:
        super().__init__(message)
        self.seconds = seconds


@transaction.atomic
def login_unlock(*, username: str, actor: Any = None) -> int:
    """Forget the failed logins of ``username`` (lifts a lock early); returns how many."""
    deleted, _detail = LoginFailure.objects.filter(username=username).delete()
    audit_record(
        actor=actor, verb="accounts.unlock", target_type="accounts.user", target_id=username,
        details={"failures_forgotten": deleted},
    )
    return deleted


def token_obtain(
    *, username: str, password: str, request: HttpRequest | None = None
) -> Token:
    """Check a user's credentials and return the user's API token (created on first use).

    Inactive users and wrong credentials get the same refusal, so that the answer does not
    tell which usernames exist.
    """
    seconds = login_locked_for(username)
    if seconds:
        raise LoginLocked(locked_message(seconds), seconds=seconds)
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        raise BusinessError(
            _("Unable to log in with the provided username and password."),
            code="invalid_credentials",
        )
    token, created = Token.objects.get_or_create(user=user)
    audit_record(
        actor=user,
        verb="accounts.token",
        target=user,
        request=request,
        details={"created": created},
    )
    return token
