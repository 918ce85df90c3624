import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiancha.quality.services import WRITE_BATCH, evaluation_run


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(_("Enter a date as YYYY-MM-DD.")) from None


class Command(BaseCommand):
    help = (
        "Evaluate cases against the quality rules and store their findings and grades."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--since",
            type=_date,
            help="only cases changed on or after this day (YYYY-MM-DD), and open cases",
        )
        parser.add_argument(
            "--today",
            type=_date,
            help="the day open cases are checked against (default: today)",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=WRITE_BATCH,
            help="cases per write transaction",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=None,
            help="DuckDB threads (default: all cores)",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar"
        )
        parser.add_argument(
            "--rebuild-event-facts",
            action="store_true",
            help="derive every case's event facts again and write the store anew "
            "(after events were changed other than by importing their cases)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rebuild_event_facts"] and options.get("since"):
            raise CommandError(
                _("--rebuild-event-facts evaluates every case: leave out --since.")
            )
        run = evaluation_run(
            since=options.get("since"),
            today=options.get("today"),
            progress=not options["no_progress"] and options["verbosity"] > 0,
            batch_size=options["batch_size"],
            threads=options.get("threads"),
            rebuild_event_facts=options["rebuild_event_facts"],
        )
        for skipped in run.skipped_rules:
            self.stderr.write(_("Skipped rule %(rule)s") % {"rule": skipped})
        self.stdout.write(
            _(
                "Evaluated %(cases)s cases in %(seconds).1f s (%(rate).0f cases/s): %(raised)s findings raised, "
                "%(retired)s retired, %(changed)s cases changed."
            )
            % {
                "cases": run.cases,
                "seconds": run.seconds or 0.0,
                "rate": run.cases_per_second,
                "raised": run.findings_raised,
                "retired": run.findings_retired,
                "changed": run.cases_changed,
            }
        )
        store = run.event_facts
        if store is not None:
            self.stdout.write(
                _(
                    "Event facts: %(fresh)s cases from the store, %(stale)s derived from their events%(written)s."
                )
                % {
                    "fresh": store.fresh,
                    "stale": store.stale,
                    "written": {
                        "rebuilt": _("; the store was written anew"),
                        "updated": _("; the store was updated"),
                        "failed": _("; the store could not be written (see the log)"),
                    }.get(store.written, ""),
                }
            )
