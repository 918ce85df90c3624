import unicodedata
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiancha.accounts.choices import Role
from jiancha.accounts.demo import DEFAULT_DEMO_PASSWORD, demo_users_create
from jiancha.core.errors import BusinessError


def display_width(text: str) -> int:
    """Columns the text takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


class Command(BaseCommand):
    help = (
        "Create the demo accounts (or reset their password, role and unit) and print them: "
        "one per role, mostly at 杭州市西湖区人民检察院 (330106)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default=DEFAULT_DEMO_PASSWORD,
            help=f"password of every demo account (default {DEFAULT_DEMO_PASSWORD})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            accounts = demo_users_create(password=options["password"])
        except BusinessError as error:
            raise CommandError(error.message) from error
        header = [_("username"), _("password"), _("role"), _("unit"), _("notes")]
        rows = []
        for account in accounts:
            notes = []
            if account.staff_number:
                notes.append(_("staff %(number)s") % {"number": account.staff_number})
            if account.role == Role.SUPERVISOR:
                notes.append(
                    _("%(count)s cases assigned") % {"count": account.assigned_cases}
                )
            rows.append(
                [
                    account.username,
                    account.password,
                    str(Role(account.role).label),
                    f"{account.unit_code} {account.unit_name}",
                    ", ".join(notes),
                ]
            )
        widths = [
            max(display_width(row[i]) for row in [header, *rows])
            for i in range(len(header))
        ]
        for row in [header, ["-" * width for width in widths], *rows]:
            self.stdout.write(
                "  ".join(
                    pad(cell, width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
        created = sum(1 for account in accounts if account.created)
        self.stdout.write(
            _("%(created)s demo accounts created, %(reset)s reset.")
            % {"created": created, "reset": len(accounts) - created}
        )
