"""A review plan for the demo, so that the review pages are not empty on first sight.

``jiancha demo-reviews`` (run by ``make demo`` after ``demo-users``): the case manager of
杭州市西湖区人民检察院 (the demo account ``xihu``) creates a routine sampling plan of its
unit's closed cases (a demo unit has a few dozen at most), draws it and assigns the drawn cases, round-robin,
to the unit's demo reviewers, the people's supervisor among them. Everything goes through
the same services as the pages (access checks, conflict-of-interest exclusion, grants,
audit log).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Min
from django.utils.translation import gettext as _

from jiancha.accounts.models import Unit, User
from jiancha.cases.models import Case
from jiancha.core.errors import BusinessError
from jiancha.reviews.models import Review, ReviewPlan
from jiancha.reviews.services import plan_create, plan_draw, review_assign

DEMO_UNIT = "330106"
MANAGER = "xihu"
REVIEWERS = ("xihu-head", "xihu-chief", "xihu-supervisor")
PERCENTAGE = Decimal(50)
SEED = 1


@dataclass(frozen=True)
class DemoPlan:
    plan: ReviewPlan
    drawn: int
    reviews: int


def demo_plan_create() -> DemoPlan:
    """Create, draw and assign the demo plan (all or nothing). Raises
    :class:`~jiancha.core.errors.BusinessError` when the demo accounts or the unit's closed
    cases are missing."""
    users = {
        user.username: user
        for user in User.objects.filter(username__in=[MANAGER, *REVIEWERS])
    }
    missing = [name for name in (MANAGER, *REVIEWERS) if name not in users]
    if missing:
        raise BusinessError(
            _("The demo accounts %(names)s are missing: run jiancha demo-users first.")
            % {"names": ", ".join(missing)}
        )
    unit = Unit.objects.get(code=DEMO_UNIT)
    closed = Case.objects.filter(unit=unit, closed_on__isnull=False).aggregate(
        first=Min("closed_on"), last=Max("closed_on")
    )
    if closed["last"] is None:
        raise BusinessError(
            _("%(unit)s has no closed case to review: run jiancha demo-data first.")
            % {"unit": unit.name}
        )
    with transaction.atomic():
        plan = plan_create(
            actor=users[MANAGER],
            unit=unit,
            name=_("Routine sampling of the cases closed %(first)s to %(last)s (demo)")
            % {"first": closed["first"].year, "last": closed["last"].year},
            kind="routine",
            period_from=closed["first"],
            period_to=closed["last"],
            percentage=PERCENTAGE,
            seed=SEED,
        )
        drawn = plan_draw(plan=plan, actor=users[MANAGER])
        reviews = review_assign(
            plan=plan,
            actor=users[MANAGER],
            reviewers=[users[name] for name in REVIEWERS],
        )
    return DemoPlan(plan=plan, drawn=len(drawn), reviews=len(reviews))


def demo_plan_exists() -> bool:
    return ReviewPlan.objects.exists() or Review.objects.exists()
