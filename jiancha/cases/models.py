"""The case registry: cases (件), their persons and procedural events, and the grants
that open a case to a user beyond its unit scope.

The fields follow the case exchange format (docs/exchange-format.md). Event fields that
depend on the event type live in ``Event.details`` so that an import followed by an export
gives back the same events.
"""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiancha.cases.choices import (
    BusinessLine,
    CaseStatus,
    EventType,
    GrantReason,
    Procedure,
)


class CaseQuerySet(models.QuerySet["Case"]):
    def visible_to(self, user: object, action: str = "view") -> "CaseQuerySet":
        """Cases the user may see (ADR 0002). The only way views, API and commands list cases.

        The user's unit scope, plus the cases granted to it (``CaseGrant``: a people's
        supervisor sees only those; a reviewer from another unit its assigned cases).
        """
        from jiancha.accounts.access import user_scope

        scope = user_scope(user)
        if scope.kind == "none":
            return self.none()
        if scope.kind == "assigned":
            return self.filter(pk__in=CaseGrant.objects.active().filter(user=user).values("case_id"))
        unit_ids = scope.unit_ids()
        if unit_ids is None:
            return self.all()
        # The grants are read first (one small query): a user without any, nearly everyone,
        # gets the plain unit condition, which the case list's indexes answer in order; an
        # OR with a subquery would make SQLite sort all of the unit's cases for one page.
        granted = CaseGrant.objects.case_ids_for(user)
        if not granted:
            return self.filter(unit_id__in=unit_ids)
        return self.filter(Q(unit_id__in=unit_ids) | Q(pk__in=granted))


class Case(models.Model):
    """One procedural record (件) of a unit, e.g. an arrest review or a prosecution review."""

    # The (unit, received_on, id) index serves lookups by unit: no separate foreign-key index.
    unit = models.ForeignKey("accounts.Unit", models.PROTECT, related_name="cases", db_index=False, verbose_name=_("unit"))
    case_id = models.CharField(_("case number"), max_length=64)
    matter_id = models.CharField(_("matter"), max_length=64, blank=True)
    business_line = models.CharField(_("business line"), max_length=20, choices=BusinessLine.choices)
    procedure = models.CharField(_("procedure"), max_length=32, choices=Procedure.choices)
    procurator_id = models.CharField(_("procurator"), max_length=32)
    received_on = models.DateField(_("received on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    detained = models.BooleanField(_("detained"), default=False)
    fast_track = models.BooleanField(_("fast track"), default=False)
    complex = models.BooleanField(_("major or complex"), default=False)
    facts = models.TextField(_("facts"), blank=True)
    primary_charge = models.CharField(_("charge"), max_length=60, blank=True)
    person_count = models.PositiveSmallIntegerField(_("persons"), default=0)
    extra = models.JSONField(_("other fields"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [models.UniqueConstraint(fields=["unit", "case_id"], name="case_unique_number")]
        # The indexes the case list sorts and filters by; each costs the importer, so none more
        # (the charge filter goes through CaseCharge's (charge, case) index).
        indexes = [
            models.Index(fields=["received_on", "id"], name="case_received"),
            models.Index(fields=["unit", "received_on", "id"], name="case_unit_received"),
            models.Index(fields=["business_line", "received_on"], name="case_line_received"),
            models.Index(fields=["procedure", "received_on"], name="case_procedure_received"),
            models.Index(fields=["procurator_id"], name="case_procurator"),
            models.Index(fields=["closed_on"], name="case_closed"),
            models.Index(fields=["matter_id"], name="case_matter"),
            models.Index(fields=["case_id"], name="case_number"),
        ]

    def __str__(self) -> str:
        return self.case_id

    @property
    def status(self) -> str:
        return CaseStatus.OPEN if self.closed_on is None else CaseStatus.CLOSED

    def get_status_display(self) -> str:
        return str(CaseStatus(self.status).label)

    @property
    def effective_matter_id(self) -> str:
        return self.matter_id or f"{self.unit_id}:{self.case_id}"


class Person(models.Model):
    """A suspect or defendant of a criminal case."""

    # The (case, position) index serves lookups by case: no separate foreign-key index.
    case = models.ForeignKey(Case, models.CASCADE, related_name="persons", db_index=False, verbose_name=_("case"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    person_id = models.CharField(_("person"), max_length=32)
    name = models.CharField(_("name"), max_length=50, blank=True)
    juvenile = models.BooleanField(_("juvenile"), default=False)
    plea_leniency = models.BooleanField(_("plea leniency"), default=False)
    charges = models.JSONField(_("charges"), default=list)
    articles = models.JSONField(_("articles"), default=list)
    extra = models.JSONField(_("other fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons")
        ordering = ["case", "position"]
        indexes = [models.Index(fields=["case", "position"], name="person_case")]

    def __str__(self) -> str:
        return self.person_id


class Event(models.Model):
    """A procedural event of a case; ``details`` holds the fields its type adds."""

    # The (case, position) index serves lookups by case: no separate foreign-key index.
    case = models.ForeignKey(Case, models.CASCADE, related_name="events", db_index=False, verbose_name=_("case"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    type = models.CharField(_("type"), max_length=40, choices=EventType.choices)
    on = models.DateField(_("date"))
    person = models.CharField(_("person"), max_length=32, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["case", "on", "position"]
        # No (type, on) index: event analyses run on the DuckDB snapshot, and every index
        # costs the importer (measured in docs/performance.md).
        indexes = [models.Index(fields=["case", "position"], name="event_case")]

    def __str__(self) -> str:
        return f"{self.type} {self.on}"


class CaseCharge(models.Model):
    """One charge named on a case (any person), so that filtering by charge is indexed."""

    # The unique (case, charge) constraint serves lookups by case: no separate foreign-key index.
    case = models.ForeignKey(Case, models.CASCADE, related_name="charge_rows", db_index=False, verbose_name=_("case"))
    charge = models.CharField(_("charge"), max_length=60)

    class Meta:
        verbose_name = _("case charge")
        verbose_name_plural = _("case charges")
        indexes = [models.Index(fields=["charge", "case"], name="casecharge_charge")]
        constraints = [models.UniqueConstraint(fields=["case", "charge"], name="casecharge_unique")]

    def __str__(self) -> str:
        return self.charge


class CaseGrantQuerySet(models.QuerySet["CaseGrant"]):
    def active(self, at: datetime.datetime | None = None) -> "CaseGrantQuerySet":
        """Grants neither revoked nor expired (at ``at``, default now)."""
        at = at or timezone.now()
        return self.filter(revoked_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))

    def case_ids_for(self, user: object) -> list[int]:
        """The ids of the cases actively granted to ``user`` (one query)."""
        if getattr(user, "pk", None) is None:
            return []
        return list(self.active().filter(user=user).values_list("case_id", flat=True).distinct())


class CaseGrant(models.Model):
    """Access to one case for one user beyond the user's unit scope (ADR 0002).

    A people's supervisor (人民监督员) sees only the cases granted to it, with persons' names
    masked (by role, ``cases.access.names_hidden_for``); a reviewer from another unit
    (cross-review, 交叉评查) may open the case it was assigned. A grant is never deleted
    when it ends: it is revoked (``revoked_at``) or expires, so that who could see what
    stays on record. Written through ``cases.services.case_grants_create`` / ``case_grants_revoke``.
    """

    case = models.ForeignKey(Case, models.CASCADE, related_name="grants", verbose_name=_("case"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="case_grants", verbose_name=_("user"))
    reason = models.CharField(_("reason"), max_length=16, choices=GrantReason.choices, default=GrantReason.SUPERVISOR)
    reference = models.CharField(
        _("reference"), max_length=64, blank=True, help_text=_("what the grant is for, e.g. the review plan")
    )
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("granted by"))
    granted_at = models.DateTimeField(_("granted at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("revoked by"))

    objects = CaseGrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("case grant")
        verbose_name_plural = _("case grants")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "user", "reason", "reference"],
                condition=Q(revoked_at__isnull=True),
                name="casegrant_active_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case} → {self.user}"
