"""The case registry: cases (件), their persons and procedural events.

The fields follow the case exchange format (docs/exchange-format.md). Event fields that
depend on the event type live in ``Event.details`` so that an import followed by an export
gives back the same events.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiancha.cases.choices import BusinessLine, CaseStatus, EventType, Procedure


class CaseQuerySet(models.QuerySet["Case"]):
    def visible_to(self, user: object, action: str = "view") -> "CaseQuerySet":
        """Cases the user may see (ADR 0002). The only way views, API and commands list cases."""
        from jiancha.accounts.access import user_scope

        scope = user_scope(user)
        if scope.kind == "assigned":
            return self.filter(supervisor_assignments__supervisor=user)
        if scope.kind == "none":
            return self.none()
        unit_ids = scope.unit_ids()
        if unit_ids is None:
            return self.all()
        return self.filter(unit_id__in=unit_ids)


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
        indexes = [
            models.Index(fields=["received_on", "id"], name="case_received"),
            models.Index(fields=["unit", "received_on", "id"], name="case_unit_received"),
            models.Index(fields=["business_line", "received_on"], name="case_line_received"),
            models.Index(fields=["procedure", "received_on"], name="case_procedure_received"),
            models.Index(fields=["procurator_id"], name="case_procurator"),
            models.Index(fields=["closed_on"], name="case_closed"),
            models.Index(fields=["matter_id"], name="case_matter"),
            models.Index(fields=["case_id"], name="case_number"),
            models.Index(fields=["primary_charge", "received_on"], name="case_charge_received"),
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


class SupervisorAssignment(models.Model):
    """A case explicitly assigned to an external people's supervisor (人民监督员)."""

    case = models.ForeignKey(Case, models.CASCADE, related_name="supervisor_assignments", verbose_name=_("case"))
    supervisor = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="supervised_cases", verbose_name=_("supervisor"))
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("assigned by"))
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)

    class Meta:
        verbose_name = _("supervisor assignment")
        verbose_name_plural = _("supervisor assignments")
        constraints = [models.UniqueConstraint(fields=["case", "supervisor"], name="assignment_unique")]

    def __str__(self) -> str:
        return f"{self.case} → {self.supervisor}"

