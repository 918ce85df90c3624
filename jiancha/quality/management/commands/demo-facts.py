from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiancha.cases.models import Case
from jiancha.quality.charge_model import CORRUPTION_RATE
from jiancha.quality.demo import DemoFactsError, demo_facts_attach
from jiancha.quality.models import Finding

CHARGE_RULE = "ML-01"


class Command(BaseCommand):
    help = (
        "Give demo cases the facts of court judgments (CAIL-style JSON Lines, the file "
        "train-charge-model reads), one in five with a plausible wrong charge, so that the "
        "charge-vs-facts and sentencing checks show in the demo. Uses the judgments the "
        "trained model has not seen; the cases are imported again and re-evaluated."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data",
            required=True,
            help="JSON Lines with fact, meta.accusation, meta.term_of_imprisonment",
        )
        parser.add_argument(
            "--cases", type=int, default=300, help="cases given facts (default 300)"
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="random seed (default 1)"
        )
        parser.add_argument(
            "--wrong-rate",
            type=float,
            default=CORRUPTION_RATE,
            help=f"share of cases given a plausible wrong charge (default {CORRUPTION_RATE})",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing if some case has facts already",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and Case.objects.exclude(facts="").exists():
            self.stdout.write(_("Some cases have facts already: none given."))
            return
        try:
            outcome = demo_facts_attach(
                options["data"],
                cases=options["cases"],
                seed=options["seed"],
                wrong_rate=options["wrong_rate"],
            )
        except DemoFactsError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            _(
                "%(cases)s cases were given the facts of a court judgment, %(wrong)s of them "
                "with a plausible wrong charge."
            )
            % {"cases": outcome.cases, "wrong": len(outcome.wrong)}
        )
        if not outcome.unseen:
            self.stdout.write(
                _(
                    "No model trained with held-out judgments: the facts may be ones the "
                    "model was trained on, which makes its checks look better than they are."
                )
            )
        flagged = set(
            Finding.objects.filter(
                rule_id=CHARGE_RULE,
                current=True,
                case_id__in=outcome.case_ids,
            ).values_list("case_id", flat=True)
        )
        if flagged or outcome.wrong:
            wrong = set(outcome.wrong)
            self.stdout.write(
                _(
                    "The charge check (%(rule)s) flags %(caught)s of the %(wrong)s wrong "
                    "charges and %(false)s of the %(right)s right ones."
                )
                % {
                    "rule": CHARGE_RULE,
                    "caught": len(flagged & wrong),
                    "wrong": len(wrong),
                    "false": len(flagged - wrong),
                    "right": outcome.cases - len(wrong),
                }
            )
