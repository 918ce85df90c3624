"""``jiancha import-cases FILE [--user USERNAME]``: import an exchange file (JSON Lines)."""

import contextlib
import os
import sys
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiancha.cases.importer import ImportFailed, import_lines, import_notify

# Files from this size on show a progress bar on stderr.
PROGRESS_BYTES = 1 << 20


class Command(BaseCommand):
    help = (
        "Import cases from a case exchange file (JSON Lines, docs/exchange-format.md). "
        "The file is imported whole or not at all; a case already imported (same unit and "
        "case number) is updated. Bad lines are listed as 'line N: field: reason'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the exchange file, or - for standard input")
        parser.add_argument(
            "--user",
            help="import as this user (audit log; only units in the user's scope); "
            "default: the system operator, every unit",
        )
        parser.add_argument(
            "--bulk",
            action="store_true",
            default=None,
            help="drop and rebuild the case tables' secondary indexes around the import, "
            "locking them until it ends (automatic when there are no cases yet)",
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar"
        )
        parser.add_argument(
            "--no-evaluate",
            action="store_true",
            help="do not pass the imported cases to the cases-changed hooks (by default "
            "quality evaluates them again after the import), for callers that run "
            "'jiancha evaluate' afterwards",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(
                    _("Unknown user “%(name)s”.") % {"name": options["user"]}
                )
        path = options["file"]
        try:
            handle: Any = (
                contextlib.nullcontext(sys.stdin.buffer)
                if path == "-"
                else open(path, "rb")  # noqa: SIM115
            )
        except OSError as error:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s")
                % {"path": path, "error": error.strerror}
            ) from None
        total = None
        progress = False
        if path != "-" and not options["no_progress"] and options["verbosity"] > 0:
            if os.path.getsize(path) >= PROGRESS_BYTES:
                progress = True
                total = _count_lines(path)
        try:
            with handle as lines:
                result = import_lines(
                    lines,
                    actor=actor,
                    source=os.path.basename(path) if path != "-" else "stdin",
                    progress=progress,
                    total=total,
                    bulk=options["bulk"],
                    notify=False,  # below, after the summary
                )
        except ImportFailed as failure:
            for error in failure.errors:
                self.stderr.write(str(error))
            if failure.truncated:
                self.stderr.write(
                    _("Stopped after %(count)s bad lines.")
                    % {"count": len(failure.errors)}
                )
            raise CommandError(
                _("Nothing was imported: %(count)s bad lines.")
                % {"count": len(failure.errors)}
            ) from None
        if options["verbosity"] > 0:
            self.stdout.write(
                _(
                    "Imported %(lines)s lines: %(created)s cases created, %(updated)s "
                    "updated, in %(seconds).1f s (%(rate)s cases/s)."
                )
                % {
                    "lines": result.lines,
                    "created": result.created,
                    "updated": result.updated,
                    "seconds": result.seconds,
                    "rate": f"{result.cases_per_second:,.0f}",
                }
            )
        if not options["no_evaluate"]:
            import_notify(result, actor=actor)


def _count_lines(path: str) -> int:
    count = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 24):
            count += block.count(b"\n")
    return count
