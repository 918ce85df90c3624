"""The organisation: procuratorates (units), departments, staff and users."""

from typing import Any

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from jiancha.accounts.choices import BusinessLine, Level, Role, StaffKind


class UnitQuerySet(models.QuerySet["Unit"]):
    def subtree_of(self, unit: "Unit") -> "UnitQuerySet":
        return self.filter(path__startswith=unit.path)


class Unit(models.Model):
    """A people's procuratorate (院), a node of the four-level tree.

    ``path`` is the materialised path of org codes from the root (``000000/110000/``), so a
    subtree is one indexed prefix query.
    """

    code = models.CharField(_("org code"), max_length=12, unique=True)
    parent = models.ForeignKey("self", models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent unit"))
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    kind = models.CharField(_("kind"), max_length=32)
    name = models.CharField(_("name"), max_length=100)
    full_name = models.CharField(_("full name"), max_length=150)
    path = models.CharField(_("path"), max_length=100, db_index=True)

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def is_within(self, other: "Unit") -> bool:
        """True if this unit is ``other`` or below it."""
        return self.path.startswith(other.path)


class Department(models.Model):
    """An internal department (检察部/检察厅) of a unit, covering one or more business lines."""

    unit = models.ForeignKey(Unit, models.CASCADE, related_name="departments", verbose_name=_("unit"))
    name = models.CharField(_("name"), max_length=100)
    business_lines = models.JSONField(_("business lines"), default=list)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        ordering = ["unit", "order"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="department_unique_name")]

    def __str__(self) -> str:
        return f"{self.unit.name} {self.name}"

    def business_line_labels(self) -> list[str]:
        labels = dict(BusinessLine.choices)
        return [str(labels.get(line, line)) for line in self.business_lines]


class Staff(models.Model):
    """A member of staff of a unit: procurator (quota or not), assistant or clerk."""

    unit = models.ForeignKey(Unit, models.PROTECT, related_name="staff", verbose_name=_("unit"))
    department = models.ForeignKey(Department, models.SET_NULL, null=True, blank=True, related_name="staff", verbose_name=_("department"))
    staff_number = models.CharField(_("staff number"), max_length=32)
    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=16, choices=StaffKind.choices, default=StaffKind.PROCURATOR)
    quota = models.BooleanField(_("quota procurator"), default=False)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        constraints = [models.UniqueConstraint(fields=["unit", "staff_number"], name="staff_unique_number")]

    def __str__(self) -> str:
        return f"{self.name} ({self.staff_number})"


class JianchaUserManager(UserManager["User"]):
    def create_superuser(self, username: str, email: str | None = None, password: str | None = None, **extra_fields: Any) -> "User":
        if "unit" not in extra_fields and "unit_id" not in extra_fields:
            extra_fields["unit"] = Unit.objects.get(code="000000")
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person who logs in; belongs to one unit and has one role there."""

    unit = models.ForeignKey(Unit, models.PROTECT, related_name="users", verbose_name=_("unit"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    staff = models.OneToOneField(Staff, models.SET_NULL, null=True, blank=True, related_name="user", verbose_name=_("staff member"))
    display_name = models.CharField(_("display name"), max_length=50, blank=True)

    objects = JianchaUserManager()
    REQUIRED_FIELDS = ["email"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.display_name or self.username


class LoginFailure(models.Model):
    """A failed login (web, admin or API token): the basis of the login lockout (登录失败处理)."""

    username = models.CharField(_("username"), max_length=150)
    remote_addr = models.CharField(_("address"), max_length=64, blank=True)
    at = models.DateTimeField(_("at"), db_index=False)

    class Meta:
        verbose_name = _("failed login")
        verbose_name_plural = _("failed logins")
        indexes = [models.Index(fields=["username", "at"], name="loginfailure_username_at")]

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M:%S}"
