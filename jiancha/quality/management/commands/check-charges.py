import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiancha.quality.charge_model import (
    ChargeChecker,
    ModelMissingError,
    default_model_path,
)

BATCH = 500  # lines checked together (one vectorisation each)


def _records(handle: IO[str]) -> Iterator[tuple[int, Any, str]]:
    """(line number, parsed record or None, reason) for every non-blank line."""
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            yield number, None, _("not JSON (%(error)s)") % {"error": error}
            continue
        if not isinstance(record, dict):
            yield number, None, _("not a JSON object")
        elif not isinstance(record.get("facts"), str):
            yield number, None, _('"facts" must be a string')
        elif not isinstance(record.get("charges"), list) or not all(
            isinstance(charge, str) for charge in record["charges"]
        ):
            yield number, None, _('"charges" must be a list of strings')
        else:
            yield number, record, ""


class Command(BaseCommand):
    help = (
        'Check JSON Lines {"facts": ..., "charges": [...]} against the charge model; print one JSON line per '
        'input line: {"line": N, "flag": ..., "suggested": [...], "confidence": x}. Bad lines are reported '
        "on stderr and make the exit code 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="JSON Lines file, or - for standard input")
        parser.add_argument(
            "--model",
            default="",
            help="charge model file (default: MODEL_DIR/charge_model.pkl)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["model"]) if options["model"] else default_model_path()
        try:
            checker = ChargeChecker.load(path)
        except ModelMissingError as error:
            raise CommandError(
                _("No charge model at %(path)s: run jiancha train-charge-model first.")
                % {"path": path}
            ) from error
        except (OSError, ValueError, EOFError, AttributeError, ImportError) as error:
            raise CommandError(
                _(
                    "Cannot load the charge model %(path)s (%(error)s): run jiancha train-charge-model again."
                )
                % {"path": path, "error": error}
            ) from error

        bad = 0
        batch: list[tuple[int, dict[str, Any]]] = []
        try:
            handle = (
                sys.stdin
                if options["file"] == "-"
                else open(options["file"], encoding="utf-8")
            )
        except OSError as error:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s")
                % {"path": options["file"], "error": error}
            ) from error
        with handle:
            try:
                for number, record, reason in _records(handle):
                    if record is None:
                        bad += 1
                        self.stderr.write(
                            _("line %(line)s: %(reason)s")
                            % {"line": number, "reason": reason}
                        )
                        continue
                    batch.append((number, record))
                    if len(batch) >= BATCH:
                        self._check(checker, batch)
                        batch = []
            except UnicodeDecodeError as error:
                raise CommandError(
                    _("%(path)s is not UTF-8: %(error)s")
                    % {"path": options["file"], "error": error}
                ) from error
        self._check(checker, batch)
        if bad:
            raise CommandError(
                _("%(count)s lines could not be checked (see above).") % {"count": bad},
                returncode=1,
            )

    def _check(
        self, checker: ChargeChecker, batch: list[tuple[int, dict[str, Any]]]
    ) -> None:
        if not batch:
            return
        results = checker.check_many(
            [(record["facts"], record["charges"]) for _number, record in batch]
        )
        for (number, _record), result in zip(batch, results, strict=True):
            self.stdout.write(
                json.dumps(
                    {
                        "line": number,
                        "flag": result.flag,
                        "suggested": result.suggested,
                        "confidence": result.confidence,
                    },
                    ensure_ascii=False,
                )
            )
