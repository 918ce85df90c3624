from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    """What a user does; with the user's unit it decides what the user may see."""

    CASE_MANAGER = "case_manager", _("case manager")
    PROCURATOR = "procurator", _("procurator")
    DEPARTMENT_HEAD = "department_head", _("department head")
    CHIEF = "chief", _("chief procurator")
    POLITICAL = "political", _("political department")
    DISCIPLINE = "discipline", _("discipline inspection")
    SUPERVISOR = "supervisor", _("people's supervisor")
    ADMIN = "admin", _("administrator")


# Roles that see the whole subtree below their unit (issue 2 §4).
SUBTREE_ROLES = frozenset({Role.CASE_MANAGER, Role.CHIEF, Role.DEPARTMENT_HEAD, Role.ADMIN})


class Level(models.IntegerChoices):
    SUPREME = 0, _("Supreme People's Procuratorate")
    PROVINCIAL = 1, _("provincial procuratorate")
    PREFECTURE = 2, _("prefecture-level procuratorate or branch")
    BASIC = 3, _("basic procuratorate")


class BusinessLine(models.TextChoices):
    """十大业务: the ten business lines (exchange format names)."""

    ORDINARY_CRIME = "ordinary_crime", _("ordinary crime")
    MAJOR_CRIME = "major_crime", _("major crime")
    DUTY_CRIME = "duty_crime", _("duty crime")
    ECONOMIC_CRIME = "economic_crime", _("economic crime")
    EXECUTION = "execution", _("criminal execution")
    CIVIL = "civil", _("civil")
    ADMINISTRATIVE = "administrative", _("administrative")
    PUBLIC_INTEREST = "public_interest", _("public interest litigation")
    JUVENILE = "juvenile", pgettext_lazy("business line", "juvenile")
    COMPLAINT = "complaint", _("complaints and appeals")


class StaffKind(models.TextChoices):
    PROCURATOR = "procurator", _("procurator")
    ASSISTANT = "assistant", _("procurator assistant")
    CLERK = "clerk", _("clerk")
