"""``jiancha indicators``: indicator values of a unit as JSON or CSV.

    jiancha indicators --unit 330100 --from 2024-01-01 --to 2024-12-31 [--by month]
                       [--set current] [--format json|csv] [--user USERNAME]

Without ``--by``: one row per indicator for the whole range and the unit's whole subtree.
With ``--user`` the command sees what that user may see; without, it runs as the system
operator (every unit).
"""

import csv
import datetime
import sys
from typing import Any

import orjson
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import Http404
from django.utils.translation import gettext as _

from jiancha.accounts.models import Unit
from jiancha.core.errors import BusinessError
from jiancha.indicators.access import access_indicator_unit
from jiancha.indicators.definitions import DEFAULT_SET, definition_sets
from jiancha.indicators.engines import get_engine
from jiancha.indicators.services import ROOT_CODE, IndicatorFilters, indicator_report

CSV_FIELDS = ["indicator", "name", "unit_code", "unit_name", "period", "numerator", "denominator", "value", "sufficient", "display", "definition_version"]


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(_("“%(value)s” is not a date YYYY-MM-DD.") % {"value": value}) from None


class Command(BaseCommand):
    help = "Compute case-quality indicators for a unit and its subtree, as JSON or CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--unit", default=ROOT_CODE, help="org code (default: the root)")
        parser.add_argument("--from", dest="date_from", required=True, type=_date, help="first day YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", required=True, type=_date, help="last day YYYY-MM-DD")
        parser.add_argument("--by", choices=["month", "quarter", "year"], help="one row per period")
        parser.add_argument("--set", dest="set_name", default=DEFAULT_SET, help="definition set: 2021, 2023, 2024 or current")
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("--user", help="compute with this user's access scope")
        parser.add_argument("--indicator", action="append", default=[], help="an indicator id (repeatable; default all)")
        parser.add_argument("--business-line", default="", help="only this business line")
        parser.add_argument("--children", action="store_true", help="also one row per child unit")
        parser.add_argument("--compare", action="store_true", help="add previous-year, parent and national values")
        parser.add_argument("--engine", choices=["snapshot", "database"], help="default: INDICATORS_ENGINE (auto)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["set_name"] not in definition_sets():
            raise CommandError(_("Unknown definition set “%(name)s”.") % {"name": options["set_name"]})
        known = set(definition_sets()[options["set_name"]].ids())
        for ident in options["indicator"]:
            if ident not in known:
                raise CommandError(_("Unknown indicator “%(id)s” in this set.") % {"id": ident})
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise CommandError(_("No active user “%(name)s”.") % {"name": options["user"]})
            try:
                access = access_indicator_unit(user, options["unit"])
            except Http404:
                raise CommandError(_("Unit %(code)s is not visible to %(user)s.") % {"code": options["unit"], "user": user.username}) from None
            unit, subtree = access.unit, access.subtree
        else:
            unit = Unit.objects.filter(code=options["unit"]).first()
            if unit is None:
                raise CommandError(_("Unknown org code “%(code)s”.") % {"code": options["unit"]})
            subtree = True
        try:
            with get_engine(options["engine"]) as engine:
                report = indicator_report(
                    unit=unit, subtree=subtree, date_from=options["date_from"], date_to=options["date_to"], by=options["by"],
                    engine=engine, set_name=options["set_name"], indicator_ids=options["indicator"] or None,
                    filters=IndicatorFilters(business_line=options["business_line"]), children=options["children"],
                    compare=options["compare"],
                )
        except BusinessError as error:
            raise CommandError(error.message) from None
        rows = [row.as_dict() for row in report.rows + report.child_rows]
        if options["format"] == "json":
            self.stdout.write(orjson.dumps(rows, option=orjson.OPT_INDENT_2).decode())
            return
        writer = csv.DictWriter(self.stdout, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.flush()
