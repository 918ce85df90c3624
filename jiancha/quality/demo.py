"""Facts for the demo: court judgments' facts given to demo cases, so that the learned
checks (charge vs. facts, sentencing deviation) have something to look at.

The demo generator (``jiancha demo-data``) writes no facts: judgment texts are not shipped
with jiancha. :func:`demo_facts_attach` reads CAIL-style judgments from a file the user
has (the same file ``jiancha train-charge-model`` reads), takes those the trained charge
model has not seen (its held-out share, from the model's metadata), and gives one to each
of a seeded sample of criminal prosecution reviews (not fast track) with one suspect and a
guilty verdict:

* the facts become the case's facts, and the suspect takes the name of the judgment's
  first defendant (``meta.criminals``) when it gives one;
* the suspect's recorded charge and articles become the judgment's charge (articles from
  the shipped charge list), the fixed sentencing recommendation and the judgment's term
  the judgment's term;
* in one case of five (:data:`~jiancha.quality.charge_model.CORRUPTION_RATE`) the
  recorded charge is a plausible wrong one (盗窃↔诈骗 …, as in the model's own
  evaluation) while the judgment keeps the right one: the demo's "wrong charge" cases.

The changed cases are imported again through the importer (one transaction, the same
checks as any import), so that everything derived from them follows.
"""

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from jiancha.cases.exporter import case_records
from jiancha.cases.importer import ImportFailed, import_records
from jiancha.cases.models import Case
from jiancha.law.reference import charge_articles
from jiancha.quality.charge_model import (
    CORRUPTION_RATE,
    Judgment,
    default_model_path,
    judgments_read,
    judgments_split,
    metadata_path,
    plausible_wrong_charge,
)
from jiancha.quality.rules.registry import CRIMINAL_LINES

MAX_MONTHS = 180  # a fixed term of imprisonment (no life or death sentence)
SAMPLE_FACTOR = 4  # candidate cases read per case wanted (some do not qualify)


class DemoFactsError(Exception):
    """The judgments or the cases cannot give the demo its facts (the message says why)."""


@dataclass
class DemoFacts:
    """What :func:`demo_facts_attach` did."""

    case_ids: list[int] = field(default_factory=list)  # the cases given facts
    wrong: list[int] = field(default_factory=list)  # those given a wrong charge
    unseen: bool = True  # the judgments were held out of the model's training

    @property
    def cases(self) -> int:
        return len(self.case_ids)


def _model_split() -> tuple[float, int, list[str]] | None:
    """(holdout, seed, labels) of the trained charge model, from its metadata; None
    without a trained model."""
    path = metadata_path(default_model_path())
    if not path.is_file():
        return None
    metadata = json.loads(path.read_text(encoding="utf-8"))
    return (
        float(metadata.get("holdout") or 0),
        int(metadata.get("seed") or 0),
        [str(label) for label in metadata.get("labels") or ()],
    )


def usable_judgments(judgments: Sequence[Judgment]) -> list[Judgment]:
    """Judgments with one charge on the current list and a fixed term of imprisonment."""
    articles = charge_articles()
    return [
        judgment
        for judgment in judgments
        if len(judgment.charges) == 1
        and articles.get(judgment.charges[0])
        and 0 < judgment.months <= MAX_MONTHS
        and not judgment.life_imprisonment
        and not judgment.death_penalty
    ]


def _qualifies(record: dict[str, Any]) -> bool:
    """Not fast track (which caps the sentence at three years), one suspect, a guilty
    first-instance verdict with a term, a fixed recommendation."""
    if len(record["persons"]) != 1 or record.get("facts") or record.get("fast_track"):
        return False
    person = record["persons"][0]["person_id"]
    kinds = {
        event["type"]
        for event in record["events"]
        if event.get("person") == person
        and (
            (
                event["type"] == "judgment"
                and event.get("verdict") == "guilty"
                and event.get("instance", 1) == 1
                and event.get("months")
            )
            or (
                event["type"] == "sentencing_recommended"
                and event.get("kind") == "fixed"
            )
        )
    }
    return kinds == {"judgment", "sentencing_recommended"}


def _defendants(path: str | Path) -> dict[str, str]:
    """The first defendant named by each judgment (``meta.criminals``), by its facts."""
    named: dict[str, str] = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
                criminals = (record.get("meta") or {}).get("criminals") or []
                if criminals and isinstance(criminals[0], str) and criminals[0].strip():
                    named.setdefault(str(record["fact"]), criminals[0].strip()[:50])
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # judgments_read has reported what is wrong with the file
    return named


def _rewrite(
    record: dict[str, Any],
    judgment: Judgment,
    recorded: str,
    true_charge: str,
    defendant: str = "",
) -> None:
    articles = charge_articles()
    record["facts"] = judgment.facts
    person = record["persons"][0]
    if defendant:
        person["name"] = defendant  # the name the facts use
    person["charges"] = [recorded]
    person["articles"] = list(articles[recorded])
    for event in record["events"]:
        if event.get("person") != person["person_id"]:
            continue
        if event["type"] == "sentencing_recommended":
            event["months"] = judgment.months
            for key in ("min_months", "max_months"):
                event.pop(key, None)
        elif event["type"] == "judgment" and event.get("instance", 1) == 1:
            event["months"] = judgment.months
            event["charges"] = [true_charge]
            event["recommendation_adopted"] = True


def demo_facts_attach(
    path: str | Path,
    *,
    cases: int,
    seed: int = 1,
    wrong_rate: float = CORRUPTION_RATE,
    notify: bool = True,
) -> DemoFacts:
    """Give up to ``cases`` demo cases the facts of judgments read from ``path`` (see the
    module's description). Raises :class:`DemoFactsError` for a file that cannot be read or
    holds no usable judgment; writes nothing then. ``notify``: pass the changed cases to
    the cases-changed hooks (their evaluation), as an import does."""
    if cases < 1:
        raise DemoFactsError(_("The number of cases must be at least 1."))
    if not 0 <= wrong_rate <= 1:
        raise DemoFactsError(_("The share of wrong charges must be between 0 and 1."))
    try:
        judgments = judgments_read(path)
    except (OSError, ValueError) as error:
        raise DemoFactsError(
            _("Cannot read %(path)s: %(error)s") % {"path": path, "error": error}
        ) from error
    outcome = DemoFacts()
    split = _model_split()
    labels: list[str] = []
    if split is not None:
        holdout, model_seed, labels = split
        if holdout:
            _train, judgments = judgments_split(
                judgments, holdout=holdout, seed=model_seed
            )
        else:
            outcome.unseen = False
    else:
        outcome.unseen = False
    usable = usable_judgments(judgments)
    if not usable:
        raise DemoFactsError(
            (
                _(
                    "%(path)s holds no judgment the model has not seen with one current "
                    "charge and a fixed term."
                )
                if outcome.unseen
                else _(
                    "%(path)s holds no judgment with one current charge and a fixed term."
                )
            )
            % {"path": path}
        )
    defendants = _defendants(path)
    rng = random.Random(seed)
    rng.shuffle(usable)
    wanted = min(cases, len(usable))
    candidates = list(
        Case.objects.filter(
            procedure="prosecution_review",
            business_line__in=CRIMINAL_LINES,
            facts="",
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    rng.shuffle(candidates)
    labels = labels or sorted({judgment.charges[0] for judgment in usable})
    records: list[dict[str, Any]] = []
    wrong_cases: list[tuple[str, str]] = []
    start = 0
    while len(records) < wanted and start < len(candidates):
        chunk = sorted(candidates[start : start + wanted * SAMPLE_FACTOR])
        start += wanted * SAMPLE_FACTOR
        qualifying = [
            record
            for record in case_records(Case.objects.filter(id__in=chunk))
            if _qualifies(record)
        ]
        rng.shuffle(qualifying)  # read in id order; drawn in no order
        for record in qualifying:
            if len(records) >= wanted:
                break
            judgment = usable[len(records)]
            true_charge = judgment.charges[0]
            recorded = true_charge
            if rng.random() < wrong_rate:
                swap = plausible_wrong_charge(
                    true_charge,
                    [name for name in labels if charge_articles().get(name)],
                    rng,
                )
                if swap is not None:
                    recorded = swap[0]
                    wrong_cases.append((record["unit_code"], record["case_id"]))
            _rewrite(
                record,
                judgment,
                recorded,
                true_charge,
                defendants.get(judgment.facts, ""),
            )
            records.append(record)
    if not records:
        raise DemoFactsError(
            _(
                "No demo case qualifies: a criminal prosecution review without facts, not "
                "fast track, with one suspect, a guilty verdict with a term and a fixed "
                "sentencing recommendation."
            )
        )
    try:
        import_records(
            records,
            source=f"demo-facts {Path(path).name} --seed {seed}",
            notify=notify,
        )
    except ImportFailed as error:  # a bug here: the records came from the database
        raise DemoFactsError(
            _("The changed cases did not pass the import checks: %(error)s")
            % {"error": error}
        ) from error
    given = {(record["unit_code"], record["case_id"]) for record in records}
    ids = {
        (unit_code, case_id): case_pk
        for case_pk, unit_code, case_id in Case.objects.filter(
            case_id__in=[case_id for _unit, case_id in given]
        ).values_list("id", "unit__code", "case_id")
        if (unit_code, case_id) in given
    }
    outcome.case_ids = sorted(ids.values())
    outcome.wrong = sorted(ids[key] for key in wrong_cases)
    return outcome
