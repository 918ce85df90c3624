from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiancha.accounts.choices import Role
from jiancha.accounts.services import user_create
from jiancha.core.errors import BusinessError


class Command(BaseCommand):
    help = "Create a user of a unit with a role; nothing is written if any value is refused."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument(
            "--unit",
            required=True,
            help="org code of the user's procuratorate, e.g. 330106",
        )
        parser.add_argument(
            "--role", required=True, help="one of: " + ", ".join(Role.values)
        )
        parser.add_argument(
            "--staff",
            default="",
            help="staff number of the user's staff record in that unit",
        )
        parser.add_argument("--email", default="")
        parser.add_argument("--display-name", default="")
        parser.add_argument(
            "--superuser",
            action="store_true",
            help="also grant the admin site and all permissions",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            user = user_create(
                username=options["username"],
                password=options["password"],
                unit_code=options["unit"],
                role=options["role"],
                staff_number=options["staff"],
                email=options["email"],
                display_name=options["display_name"],
                is_superuser=options["superuser"],
            )
        except BusinessError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            _("Created user %(username)s (%(role)s) at %(unit)s.")
            % {
                "username": user.username,
                "role": user.get_role_display(),
                "unit": user.unit.name,
            }
        )
