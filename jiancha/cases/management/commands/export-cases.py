"""``jiancha export-cases [--unit CODE] [--user USERNAME]``: cases as JSON Lines on stdout."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiancha.cases.exporter import UnknownUnit, export_cases

# Lines written to the output at once.
FLUSH_LINES = 1000


class Command(BaseCommand):
    help = (
        "Write cases to standard output in the case exchange format (JSON Lines, "
        "docs/exchange-format.md), which import-cases reads back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--unit", help="only this unit (org code) and the units below it"
        )
        parser.add_argument(
            "--user",
            help="export what this user may see; default: the system operator, every unit",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(
                    _("Unknown user “%(name)s”.") % {"name": options["user"]}
                )
        try:
            lines = export_cases(user=user, unit_code=options["unit"] or None)
        except UnknownUnit as error:
            raise CommandError(
                _("Unknown unit “%(code)s”.") % {"code": error.code}
            ) from None
        buffer: list[bytes] = []
        for line in lines:
            buffer.append(line)
            if len(buffer) >= FLUSH_LINES:
                self.stdout.write(b"".join(buffer).decode(), ending="")
                buffer.clear()
        if buffer:
            self.stdout.write(b"".join(buffer).decode(), ending="")
        self.stdout.flush()
