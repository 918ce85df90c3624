from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from jiancha.analytics.snapshot import build_snapshot


class Command(BaseCommand):
    help = "Build the DuckDB analytics snapshot of the case tables."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--path", help="where to write the snapshot (default: settings.ANALYTICS_SNAPSHOT)")

    def handle(self, *args: Any, **options: Any) -> None:
        info = build_snapshot(options.get("path"))
        self.stdout.write(
            _("Snapshot %(path)s: %(cases)s cases, %(persons)s persons, %(events)s events in %(seconds).1f s (data hash %(hash)s).")
            % {"path": info.path, "cases": info.cases, "persons": info.persons, "events": info.events, "seconds": info.seconds, "hash": info.data_hash[:16]}
        )
