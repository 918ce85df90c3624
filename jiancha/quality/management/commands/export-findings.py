import sys
from typing import Any

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from jiancha.accounts.models import Unit
from jiancha.quality.models import Finding
from jiancha.quality.rules.render import render_message, rule_for

COLUMNS = (
    "case__case_id",
    "unit__code",
    "rule_id",
    "ruleset_version",
    "severity",
    "subject",
    "values",
    "legal_basis",
    "period",
    "procurator_id",
)


class Command(BaseCommand):
    help = "Write the current findings as JSON Lines: one line per finding."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["jsonl"], default="jsonl")
        parser.add_argument(
            "--unit",
            default="",
            help="org code: only findings of that unit and the units below it",
        )
        parser.add_argument(
            "--output", default="-", help="file to write (default: standard output)"
        )
        parser.add_argument(
            "--language",
            default="zh-hans",
            help="language of the messages (zh-hans or en)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        queryset = Finding.objects.filter(current=True)
        if options["unit"]:
            unit = Unit.objects.filter(code=options["unit"]).first()
            if unit is None:
                raise CommandError(
                    _("Unknown org code “%(code)s”.") % {"code": options["unit"]}
                )
            queryset = queryset.filter(
                unit_id__in=Unit.objects.subtree_of(unit).values("id")
            )
        rows = (
            queryset.order_by("unit_id", "case_id", "id")
            .values_list(*COLUMNS)
            .iterator(chunk_size=5000)
        )
        handle = (
            sys.stdout.buffer
            if options["output"] == "-"
            else open(options["output"], "wb")
        )  # noqa: SIM115
        count = 0
        try:
            with translation.override(options["language"]):
                for (
                    case_id,
                    unit_code,
                    rule_id,
                    version,
                    severity,
                    subject,
                    values,
                    legal_basis,
                    period,
                    procurator,
                ) in rows:
                    rule = rule_for(version, rule_id)
                    line = {
                        "unit_code": unit_code,
                        "case_id": case_id,
                        "rule_id": rule_id,
                        "severity": severity,
                        "legal_basis": legal_basis,
                        "message": render_message(rule, values, subject),
                        "rule_name": (rule.name if rule else rule_id),
                        "ruleset_version": version,
                        "subject": subject,
                        "values": values,
                        "period": period.isoformat() if period else None,
                        "procurator_id": procurator,
                    }
                    handle.write(orjson.dumps(line) + b"\n")
                    count += 1
        except BrokenPipeError:  # the reader stopped early (| head)
            return
        finally:
            if handle is not sys.stdout.buffer:
                handle.close()
        self.stderr.write(_("%(count)s findings written.") % {"count": count})
