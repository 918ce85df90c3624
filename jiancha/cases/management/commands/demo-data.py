import datetime
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, NamedTuple

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.translation import gettext as _

from jiancha.accounts.demo import staff_create_for_units
from jiancha.cases.demo import DEFAULT_FROM, DEFAULT_TO, generate_cases_with_defects
from jiancha.cases.importer import ImportFailed, import_notify, import_records
from jiancha.cases.models import Case

WRITE_CHUNK = 2000  # lines joined per write


def date_argument(*, end: bool) -> Any:
    """Parse ``YYYY`` (the first or last day of that year) or ``YYYY-MM-DD``."""

    def parse(value: str) -> datetime.date:
        try:
            if len(value) == 4 and value.isdigit():
                return (
                    datetime.date(int(value), 12, 31)
                    if end
                    else datetime.date(int(value), 1, 1)
                )
            return datetime.date.fromisoformat(value)
        except ValueError:
            raise CommandError(
                _("“%(value)s” is neither a year nor a date YYYY-MM-DD.")
                % {"value": value}
            ) from None

    return parse


class StaffResult(NamedTuple):
    created: int
    started: float  # perf_counter when the cases were in and staff creation began
    seconds: float


class Tally:
    """Counts what passes through, and writes the defect manifest as records stream by."""

    def __init__(self, manifest: IO[bytes] | None) -> None:
        self.manifest = manifest
        self.cases = self.persons = self.events = self.defective = 0
        self.units: set[str] = set()

    def records(
        self, pairs: Iterable[tuple[dict[str, Any], list[str]]]
    ) -> Iterator[dict[str, Any]]:
        manifest = self.manifest
        units = self.units
        for record, defects in pairs:
            self.cases += 1
            self.persons += len(record["persons"])
            self.events += len(record["events"])
            units.add(record["unit_code"])
            if defects:
                self.defective += 1
                if manifest is not None:
                    line = {
                        "unit_code": record["unit_code"],
                        "case_id": record["case_id"],
                        "defects": defects,
                    }
                    manifest.write(orjson.dumps(line) + b"\n")
            yield record


class Command(BaseCommand):
    help = (
        "Generate realistic demo cases (deterministic for a given --cases and --seed) and "
        "import them with staff rosters for their units, or write them as JSON Lines (--output)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--cases", type=int, default=20000, help="number of cases (default 20000)"
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="random seed (default 1)"
        )
        parser.add_argument(
            "--from",
            dest="date_from",
            type=date_argument(end=False),
            default=DEFAULT_FROM,
            help=f"first day cases are received: YYYY or YYYY-MM-DD (default {DEFAULT_FROM})",
        )
        parser.add_argument(
            "--to",
            dest="date_to",
            type=date_argument(end=True),
            default=DEFAULT_TO,
            help=f"last day, the day of the snapshot: YYYY or YYYY-MM-DD (default {DEFAULT_TO})",
        )
        parser.add_argument(
            "--output",
            metavar="FILE",
            help="write JSON Lines to FILE instead of the database ('-': stdout)",
        )
        parser.add_argument(
            "--manifest",
            metavar="FILE",
            help='write a JSON line {"unit_code", "case_id", "defects"} for every case with a deliberate defect',
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing if the database already has cases",
        )
        parser.add_argument(
            "--no-evaluate",
            action="store_true",
            help="do not pass the new cases to the cases-changed hooks (quality's "
            "evaluation), for callers that run 'jiancha evaluate' afterwards",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count, seed = options["cases"], options["seed"]
        date_from, date_to = options["date_from"], options["date_to"]
        if count < 0:
            raise CommandError(_("--cases must not be negative."))
        if date_to < date_from:
            raise CommandError(_("--to must not be before --from."))
        output = options["output"]
        report = self.stderr if output == "-" else self.stdout
        if output is None and options["if_empty"] and Case.objects.exists():
            report.write(_("The database already has cases: no demo data loaded."))
            return
        manifest = open(options["manifest"], "wb") if options["manifest"] else None  # noqa: SIM115
        started = time.perf_counter()
        tally = Tally(manifest)
        staff = None
        try:
            records = tally.records(
                generate_cases_with_defects(
                    count, seed, date_from=date_from, date_to=date_to
                )
            )
            if output is not None:
                self.write_lines(records, output)
            else:
                staff = self.load(
                    records,
                    units=tally.units,
                    count=count,
                    seed=seed,
                    verbosity=options["verbosity"],
                    evaluate=not options["no_evaluate"],
                )
        finally:
            if manifest is not None:
                manifest.close()
        seconds = (staff.started if staff else time.perf_counter()) - started
        report.write(
            _(
                "%(cases)s cases (%(defective)s with a deliberate defect), %(persons)s persons, "
                "%(events)s events in %(seconds).1f s (%(rate)s cases/s)."
            )
            % {
                "cases": tally.cases,
                "defective": tally.defective,
                "persons": tally.persons,
                "events": tally.events,
                "seconds": seconds,
                "rate": int(tally.cases / seconds) if seconds else 0,
            }
        )
        if staff is not None:
            report.write(
                _(
                    "%(staff)s staff members created for %(units)s units in %(seconds).1f s."
                )
                % {
                    "staff": staff.created,
                    "units": len(tally.units),
                    "seconds": staff.seconds,
                }
            )

    def write_lines(self, records: Iterable[dict[str, Any]], output: str) -> None:
        """Write JSON Lines to a file, or to standard output for ``-``."""
        if output != "-":
            with open(output, "wb") as handle:
                self.write_chunks(records, handle.write)
            return
        stream = getattr(self.stdout, "_out", sys.stdout)
        binary = getattr(stream, "buffer", None)
        if binary is not None:
            self.write_chunks(records, binary.write)
            binary.flush()
        else:  # a text stream, e.g. io.StringIO under call_command
            self.write_chunks(records, lambda data: stream.write(data.decode("utf-8")))

    @staticmethod
    def write_chunks(
        records: Iterable[dict[str, Any]], write: Callable[[bytes], Any]
    ) -> None:
        dumps = orjson.dumps
        chunk: list[bytes] = []
        for record in records:
            chunk.append(dumps(record))
            if len(chunk) >= WRITE_CHUNK:
                write(b"\n".join(chunk) + b"\n")
                chunk.clear()
        if chunk:
            write(b"\n".join(chunk) + b"\n")

    def load(
        self,
        records: Iterator[dict[str, Any]],
        *,
        units: set[str],
        count: int,
        seed: int,
        verbosity: int,
        evaluate: bool = True,
    ) -> "StaffResult":
        """Import the records, then create the staff of their units (``units`` fills up
        while the records stream by): all or nothing. Then, unless ``evaluate`` is false,
        the cases go to the cases-changed hooks (not counted in the times reported)."""
        progress = verbosity >= 2 or (verbosity >= 1 and sys.stderr.isatty())
        try:
            with transaction.atomic():
                result = import_records(
                    records,
                    source=f"demo-data --cases {count} --seed {seed}",
                    progress=progress,
                    total=count,
                    notify=False,
                )
                started = time.perf_counter()
                created = staff_create_for_units(units)
        except ImportFailed as error:
            shown = "\n".join(str(line) for line in error.errors[:10])
            raise CommandError(
                _(
                    "The demo data did not pass the import checks (a bug in the generator):\n%(errors)s"
                )
                % {"errors": shown}
            ) from error
        staff = StaffResult(created, started, time.perf_counter() - started)
        if evaluate:
            import_notify(result)
        return staff
