from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from jiancha.accounts.lockout import login_locked_for
from jiancha.accounts.services import login_unlock


class Command(BaseCommand):
    help = "Lift the login lock of a username (forget its failed logins); audited."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"]
        was_locked = bool(login_locked_for(username))
        forgotten = login_unlock(username=username)
        if was_locked:
            message = _("%(username)s was locked and may log in again; %(count)s failed logins forgotten.")
        else:
            message = _("%(username)s was not locked; %(count)s failed logins forgotten.")
        self.stdout.write(message % {"username": username, "count": forgotten})
