from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from jiancha.accounts.lockout import login_locked_for


def locked_message(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return ngettext(
        "Too many failed logins for this user. Try again in %(minutes)s minute or ask an administrator.",
        "Too many failed logins for this user. Try again in %(minutes)s minutes or ask an administrator.",
        minutes,
    ) % {"minutes": minutes}


class LoginForm(AuthenticationForm):
    """The login form; a locked username gets a message that says so (not "wrong password")."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked": _("Too many failed logins."),
    }

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username:
            seconds = login_locked_for(username)
            if seconds:
                raise forms.ValidationError(locked_message(seconds), code="locked")
        return super().clean()
