from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from jiancha.accounts.lockout import locked_message, login_locked_for


class LoginForm(AuthenticationForm):
    """The login form; a locked username gets a message that says so (not "wrong password")."""

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        if username:
            seconds = login_locked_for(username)
            if seconds:
                raise forms.ValidationError(locked_message(seconds), code="locked")
        return super().clean()
