"""The create-user command: success, and a non-zero exit with nothing written on each refusal."""

import io

import pytest
from django.core.management import CommandError, call_command, execute_from_command_line
from django.db import connections

from jiancha.accounts.models import User
from jiancha.core.models import AuditEntry
from jiancha.core.testing import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "long-enough-1"


def create_user(*extra: str, **options: str) -> str:
    arguments = {
        "username": "zhou",
        "password": PASSWORD,
        "unit": "330106",
        "role": "procurator",
    } | options
    argv = [f"--{name}={value}" for name, value in arguments.items()]
    out = io.StringIO()
    call_command("create-user", *argv, *extra, stdout=out)
    return out.getvalue()


def test_creates_the_user_and_audits_it():
    out = create_user()

    user = User.objects.get(username="zhou")
    assert user.unit.code == "330106"
    assert user.role == "procurator"
    assert user.check_password(PASSWORD)
    assert "zhou" in out
    entry = AuditEntry.objects.get(verb="accounts.user_create")
    assert entry.actor_username == "system"
    assert PASSWORD not in entry.details


def test_superuser_flag():
    create_user("--superuser", username="boss", unit="000000", role="admin")

    user = User.objects.get(username="boss")
    assert user.is_superuser
    assert user.is_staff


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"unit": "999999"}, "999999"),
        ({"role": "janitor"}, "janitor"),
        ({"username": "taken"}, "taken"),
        ({"password": "short"}, ""),
        ({"staff": "S-404"}, "S-404"),
    ],
    ids=[
        "unknown unit",
        "unknown role",
        "duplicate username",
        "weak password",
        "unknown staff",
    ],
)
def test_refusals_raise_command_error_and_write_nothing(options, fragment):
    make_user("procurator", "330106", username="taken")
    users, entries = User.objects.count(), AuditEntry.objects.count()

    with pytest.raises(CommandError) as refusal:
        create_user(**options)

    assert fragment in str(refusal.value)
    assert User.objects.count() == users
    assert AuditEntry.objects.count() == entries


def test_the_console_command_exits_non_zero(capsys, monkeypatch):
    # run_from_argv closes every connection on exit, which would drop the test database.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(
            [
                "jiancha",
                "create-user",
                "--username=zhou",
                f"--password={PASSWORD}",
                "--unit=999999",
                "--role=procurator",
            ]
        )

    assert exit_info.value.code != 0
    assert "999999" in capsys.readouterr().err
    assert not User.objects.filter(username="zhou").exists()


def test_missing_arguments_are_refused():
    with pytest.raises(CommandError):
        call_command("create-user", "--username=zhou")
