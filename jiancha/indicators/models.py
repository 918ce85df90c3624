"""Published indicator reports and reference ranges issued by higher units.

Indicator *definitions* are versioned data (``data/definitions.json``), not rows: they
change with a release, and each value names the definition version that produced it.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PublishedReport(models.Model):
    """A frozen indicator table as circulated on a date (通报).

    ``table`` holds the rows exactly as computed; ``definition_fingerprint`` and
    ``data_hash`` say which definitions and which data produced them, and
    ``content_hash`` covers everything, so a later change to the stored table is detected.
    """

    title = models.CharField(_("title"), max_length=200)
    unit = models.ForeignKey("accounts.Unit", models.PROTECT, related_name="+", verbose_name=_("unit"))
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    by = models.CharField(_("period type"), max_length=10, blank=True)
    set_name = models.CharField(_("definition set"), max_length=20)
    definition_fingerprint = models.CharField(_("definition fingerprint"), max_length=32)
    definition_versions = models.JSONField(_("definition versions"), default=list)
    engine = models.CharField(_("computed on"), max_length=20)
    data_hash = models.CharField(_("data hash"), max_length=80)
    data_as_of = models.DateTimeField(_("data as of"), null=True, blank=True)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    table = models.JSONField(_("table"), default=list)
    content_hash = models.CharField(_("content hash"), max_length=64)
    note = models.TextField(_("note"), blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("published by"))
    published_at = models.DateTimeField(_("published at"))

    class Meta:
        verbose_name = _("published indicator report")
        verbose_name_plural = _("published indicator reports")
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["unit", "published_at"], name="publishedreport_unit")]

    def __str__(self) -> str:
        return self.title


class ReferenceRange(models.Model):
    """A reference range (参考值) for one indicator and year, issued by a unit for its subtree.

    Either bound may be open; both set means "within the band is best". The nearest issuing
    ancestor of a unit wins.
    """

    indicator = models.CharField(_("indicator"), max_length=60)
    issued_by_unit = models.ForeignKey("accounts.Unit", models.PROTECT, related_name="+", verbose_name=_("issued by unit"))
    year = models.PositiveSmallIntegerField(_("year"))
    low = models.FloatField(_("lower bound"), null=True, blank=True)
    high = models.FloatField(_("upper bound"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("issued by"))
    issued_at = models.DateTimeField(_("issued at"))

    class Meta:
        verbose_name = _("reference range")
        verbose_name_plural = _("reference ranges")
        constraints = [models.UniqueConstraint(fields=["indicator", "issued_by_unit", "year"], name="referencerange_unique")]

    def __str__(self) -> str:
        return f"{self.indicator} {self.year}"
