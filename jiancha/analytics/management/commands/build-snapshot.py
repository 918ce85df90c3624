import hashlib
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
        # The data hash is four table digests; their first one (the units) rarely changes, so
        # print a short digest of the whole rather than its beginning.
        short = hashlib.sha256(info.data_hash.encode()).hexdigest()[:16]
        self.stdout.write(
            _("Snapshot %(path)s: %(cases)s cases, %(persons)s persons, %(events)s events in %(seconds).1f s (data hash %(hash)s).")
            % {"path": info.path, "cases": info.cases, "persons": info.persons, "events": info.events, "seconds": info.seconds, "hash": short}
        )
