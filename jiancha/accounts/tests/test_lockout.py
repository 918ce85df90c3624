"""Login failure handling: a username is locked after too many failed logins, on every path."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from jiancha.accounts.lockout import login_locked_for
from jiancha.accounts.models import LoginFailure
from jiancha.core.models import AuditEntry
from jiancha.core.testing import make_user

pytestmark = pytest.mark.django_db

PASSWORD = "right-pass-1"
TOKEN_URL = "/api/v1/auth/token/"


def fail_web(client: Client, username: str, times: int) -> None:
    for _attempt in range(times):
        response = client.post("/login/", {"username": username, "password": "wrong-pass"})
        assert response.status_code == 200  # the form again, with an error


@pytest.fixture
def user(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_WINDOW = 600
    return make_user("procurator", "330106", username="wang", password=PASSWORD)


def test_web_login_is_locked_after_the_limit_and_says_so(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    fail_web(client, "wang", 2)
    assert not login_locked_for("wang")
    fail_web(client, "wang", 1)
    assert 590 <= login_locked_for("wang") <= 600
    # The right password is refused too, with a message that says why.
    response = client.post("/login/", {"username": "wang", "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed logins for this user. Try again in 10 minutes" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # Other usernames are not affected.
    other = make_user("procurator", "330106", username="zhao", password=PASSWORD)
    assert client.post("/login/", {"username": other.username, "password": PASSWORD}).status_code == 302


def test_lock_ends_when_the_failures_leave_the_window(user):
    client = Client()
    fail_web(client, "wang", 3)
    assert login_locked_for("wang")
    LoginFailure.objects.update(at=timezone.now() - datetime.timedelta(seconds=601))
    assert not login_locked_for("wang")
    assert client.post("/login/", {"username": "wang", "password": PASSWORD}).status_code == 302


def test_failures_are_stored_with_the_address_not_a_forwarded_header(user):
    Client(REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="1.1.1.1").post(
        "/login/", {"username": "wang", "password": "wrong-pass"}
    )
    failure = LoginFailure.objects.get()
    assert (failure.username, failure.remote_addr) == ("wang", "10.1.2.3")


def test_api_token_is_refused_with_429_while_locked(user):
    client = Client()
    for _attempt in range(3):
        response = client.post(TOKEN_URL, {"username": "wang", "password": "wrong-pass"}, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["code"] == "invalid_credentials"
    response = client.post(TOKEN_URL, {"username": "wang", "password": PASSWORD}, content_type="application/json")
    assert response.status_code == 429
    assert response.json()["code"] == "login_locked"
    assert not AuditEntry.objects.filter(verb="accounts.token").exists()


def test_admin_login_is_locked_too(user, settings):
    user.is_staff = True
    user.is_superuser = True
    user.save()
    client = Client()
    fail_web(client, "wang", 3)
    response = client.post("/admin/login/?next=/admin/", {"username": "wang", "password": PASSWORD})
    assert response.status_code == 200  # refused: the login form again
    assert "_auth_user_id" not in client.session


def test_unlock_user_lifts_the_lock_and_is_audited(user):
    client = Client()
    fail_web(client, "wang", 3)
    out = io.StringIO()
    call_command("unlock-user", "wang", stdout=out)
    assert "3" in out.getvalue()
    assert not login_locked_for("wang")
    assert AuditEntry.objects.filter(verb="accounts.unlock", target_id="wang").count() == 1
    assert client.post("/login/", {"username": "wang", "password": PASSWORD}).status_code == 302


def test_the_session_user_comes_with_its_unit_in_one_query(user, django_assert_num_queries):
    from django.contrib.auth import get_user

    client = Client()
    client.force_login(user)
    request = type("R", (), {"session": client.session})()
    with django_assert_num_queries(2):  # the session, then the user joined with its unit
        loaded = get_user(request)
        assert loaded.unit.code == "330106"
    user.is_active = False
    user.save()
    assert not get_user(request).is_authenticated
