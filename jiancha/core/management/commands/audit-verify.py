from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from jiancha.core.audit import audit_verify


class Command(BaseCommand):
    help = "Verify the hash chain of the audit log; exit non-zero at the first tampered or missing entry."

    def handle(self, *args: Any, **options: Any) -> None:
        checked, problem = audit_verify()
        if problem is not None:
            raise CommandError(
                _("Audit log broken at entry #%(sequence)s: %(message)s")
                % {"sequence": problem.sequence, "message": problem.message}
            )
        self.stdout.write(_("Audit log intact: %(count)s entries verified.") % {"count": checked})
