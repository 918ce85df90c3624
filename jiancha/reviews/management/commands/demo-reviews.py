from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiancha.core.errors import BusinessError
from jiancha.reviews.demo import demo_plan_create, demo_plan_exists


class Command(BaseCommand):
    help = (
        "Create a demo review plan: routine sampling of 杭州市西湖区人民检察院 (330106), "
        "drawn and assigned to its demo reviewers (run after demo-data and demo-users)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing if there is a review plan already",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and demo_plan_exists():
            self.stdout.write(
                _("There are review plans already: no demo plan created.")
            )
            return
        try:
            demo = demo_plan_create()
        except BusinessError as error:
            raise CommandError(error.message) from error
        self.stdout.write(
            _(
                "Review plan “%(name)s”: %(drawn)s cases drawn, %(reviews)s reviews assigned."
            )
            % {"name": demo.plan.name, "drawn": demo.drawn, "reviews": demo.reviews}
        )
