"""``jiancha indicators-facts``: build the indicator fact tables of the current snapshot.

Run it after ``jiancha build-snapshot`` (the same timer), so that no dashboard request waits
for the build. It does nothing when the fact tables of this snapshot already exist.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiancha.analytics.snapshot import snapshot_path
from jiancha.indicators.facts import ensure_facts


class Command(BaseCommand):
    help = "Build the indicator fact tables of the analytics snapshot (once per snapshot)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--snapshot", help="the snapshot file (default: ANALYTICS_SNAPSHOT)")

    def handle(self, *args: Any, **options: Any) -> None:
        from pathlib import Path

        path = Path(options["snapshot"] or snapshot_path())
        if not path.exists():
            raise CommandError(_("No snapshot at %(path)s: run `jiancha build-snapshot` first.") % {"path": path})
        target, seconds = ensure_facts(path)
        if seconds:
            self.stdout.write(_("Built %(path)s in %(seconds)s s.") % {"path": target, "seconds": f"{seconds:.1f}"})
        else:
            self.stdout.write(_("%(path)s is up to date.") % {"path": target})
