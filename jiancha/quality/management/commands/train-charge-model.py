import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from jiancha.quality.charge_model import (
    TARGET_RECALL,
    charge_checker_evaluate,
    charge_checker_train,
    default_model_path,
    judgments_read,
    judgments_split,
)
from jiancha.quality.sentencing_model import (
    MODEL_FILENAME,
    sentencing_model_evaluate,
    sentencing_model_train,
)

MINIMUM_JUDGMENTS = 20


def _figure(value: float) -> str:
    return f"{value:.3f}"


class Command(BaseCommand):
    help = (
        "Train the charge-vs-facts model and the sentencing model on court judgments "
        "(CAIL-style JSON Lines), save them, and print their figures on held-out judgments."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data",
            required=True,
            help="JSON Lines with fact, meta.accusation, meta.term_of_imprisonment",
        )
        parser.add_argument(
            "--model",
            default="",
            help="charge model file (default: MODEL_DIR/charge_model.pkl)",
        )
        parser.add_argument(
            "--sentencing-model",
            default="",
            help="sentencing model file (default: sentencing_model.pkl beside the charge model)",
        )
        parser.add_argument(
            "--holdout",
            type=float,
            default=0.2,
            help="share of judgments kept out of training to measure the models (0: train on all, no figures)",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=0,
            help="seed of the split, the folds and the planted errors",
        )
        parser.add_argument(
            "--folds",
            type=int,
            default=5,
            help="cross-validation folds inside the training split",
        )
        parser.add_argument(
            "--target-recall",
            type=float,
            default=TARGET_RECALL,
            help="share of wrong charges the flag should catch, aimed at on inner cross-validation "
            "(higher catches more and raises more false alarms)",
        )
        parser.add_argument(
            "--no-sentencing", action="store_true", help="train the charge model only"
        )
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="do nothing if the charge model file exists already (make demo)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        data = Path(options["data"])
        existing = Path(options["model"]) if options["model"] else default_model_path()
        if options["if_missing"] and existing.is_file():
            self.stdout.write(
                _("%(path)s exists already: not trained again.") % {"path": existing}
            )
            return
        holdout = options["holdout"]
        if not 0 <= holdout < 1:
            raise CommandError(_("--holdout must be at least 0 and below 1."))
        if not 0 < options["target_recall"] < 1:
            raise CommandError(_("--target-recall must be between 0 and 1."))
        if options["folds"] < 2:
            raise CommandError(_("--folds must be at least 2."))
        try:
            judgments = judgments_read(data)
        except (OSError, ValueError) as error:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": data, "error": error}
            ) from error
        train, test = (
            judgments_split(judgments, holdout=holdout, seed=options["seed"])
            if holdout
            else (judgments, [])
        )
        if (
            len(train) < MINIMUM_JUDGMENTS
            or len({charge for judgment in train for charge in judgment.charges}) < 2
        ):
            raise CommandError(
                _(
                    "Too few judgments to train on: %(count)s (at least %(minimum)s, with two different charges)."
                )
                % {"count": len(train), "minimum": MINIMUM_JUDGMENTS}
            )
        charge_path = (
            Path(options["model"]) if options["model"] else default_model_path()
        )
        sentencing_path = (
            Path(options["sentencing_model"])
            if options["sentencing_model"]
            else charge_path.with_name(MODEL_FILENAME)
        )
        verbose = options["verbosity"] >= 2

        def progress(message: str) -> None:
            if verbose:
                sys.stderr.write(message + "\n")

        self.stdout.write(
            _(
                "Read %(count)s judgments from %(path)s: %(train)s for training, %(test)s held out (seed %(seed)s)."
            )
            % {
                "count": len(judgments),
                "path": data,
                "train": len(train),
                "test": len(test),
                "seed": options["seed"],
            }
        )
        self.stdout.write(
            _("Training the charge model (a minute or two on the full data)...")
        )
        checker = charge_checker_train(
            train,
            seed=options["seed"],
            folds=options["folds"],
            target_recall=options["target_recall"],
            progress=progress,
        )
        checker.metadata["trained_on"] = str(data)
        checker.metadata["holdout"] = holdout
        checker.save(charge_path)
        self.stdout.write(
            _("Charge model saved to %(path)s (flag threshold %(threshold)s).")
            % {"path": charge_path, "threshold": _figure(checker.threshold)}
        )

        sentencing = None
        if not options["no_sentencing"]:
            self.stdout.write(_("Training the sentencing model..."))
            sentencing = sentencing_model_train(
                train, seed=options["seed"], folds=options["folds"], progress=progress
            )
            sentencing.metadata["trained_on"] = str(data)
            sentencing.metadata["holdout"] = holdout
            sentencing.save(sentencing_path)
            self.stdout.write(
                _("Sentencing model saved to %(path)s.") % {"path": sentencing_path}
            )

        if not test:
            return
        charges = charge_checker_evaluate(checker, test, seed=options["seed"])
        self.stdout.write(
            _(
                "Held-out charge suggestions (%(cases)s judgments): top-1 %(top1)s, top-3 %(top3)s, macro-F1 %(macro_f1)s."
            )
            % {
                "cases": charges.cases,
                "top1": _figure(charges.top1),
                "top3": _figure(charges.top3),
                "macro_f1": _figure(charges.macro_f1),
            }
        )
        self.stdout.write(
            _(
                "Held-out charge flag (a plausible wrong charge planted in %(planted)s of %(cases)s judgments): "
                "precision %(precision)s, recall %(recall)s, false alarms on correct charges %(false_alarms)s."
            )
            % {
                "planted": charges.planted,
                "cases": charges.cases,
                "precision": _figure(charges.precision),
                "recall": _figure(charges.recall),
                "false_alarms": _figure(charges.false_alarm_rate),
            }
        )
        if sentencing is None:
            return
        terms = sentencing_model_evaluate(sentencing, test, seed=options["seed"])
        self.stdout.write(
            _(
                "Held-out sentencing error (%(cases)s judgments): mean absolute error %(error)s months "
                "(median %(median)s), the charge's median term alone %(baseline)s months; "
                "interval coverage %(coverage)s."
            )
            % {
                "cases": terms.cases,
                "error": f"{terms.mean_absolute_error:.1f}",
                "median": f"{terms.median_absolute_error:.1f}",
                "baseline": f"{terms.baseline_mean_absolute_error:.1f}",
                "coverage": _figure(terms.interval_coverage),
            }
        )
        self.stdout.write(
            _(
                "Held-out sentencing flag (a term multiplied or divided by 2.5 in %(planted)s judgments): "
                "precision %(precision)s, recall %(recall)s, false alarms on real terms %(false_alarms)s."
            )
            % {
                "planted": terms.planted,
                "precision": _figure(terms.precision),
                "recall": _figure(terms.recall),
                "false_alarms": _figure(terms.false_alarm_rate),
            }
        )
