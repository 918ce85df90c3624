"""Writing cases: case grants (ADR 0002), and telling the apps above that cases changed
(issue 3 §3).

Case grants
-----------

:func:`case_grants_create` and :func:`case_grants_revoke` write ``CaseGrant`` rows for
other code (``reviews``; the admin's revoke action): a grant lets a user open a case outside
its unit scope, until it is revoked or expires. Each call writes one audit entry. (The
admin's add form saves a supervisor assignment itself, audited by ``AuditedAdminMixin``.)

Cases changed
-------------

``cases`` sits below ``quality`` in the layers (STYLE.md §2), so it cannot call the
evaluation itself. Code that creates or changes cases calls :func:`notify_cases_changed`
instead, which calls each function named in the setting ``CASES_CHANGED_HOOKS`` (dotted
paths; by default ``jiancha.quality.services.cases_changed``, which evaluates the cases
again) once the writing transaction has committed.

A hook is called with keyword arguments only:

* ``case_ids``: the ids of the cases created or changed, or ``None`` for a large write;
* ``changed_since``: for a large write, a time such that every case it created or changed
  has ``updated_at >= changed_since`` (the cases are then found by that, not listed in
  Python, so that an import of millions of cases collects no list of millions of ids);
* ``count``: how many cases the write created or changed;
* ``actor``: the user who wrote them (``None``: the system).

A hook that fails is logged (logger ``jiancha.cases.services``, with the traceback) and the
next hook still runs: the write has committed by then and stays as it is. For quality this
means the cases are evaluated by the next ``jiancha evaluate`` run instead (until then they
show as pending).
"""

import datetime
import logging
from collections.abc import Collection, Iterable
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from jiancha.cases.choices import GrantReason
from jiancha.cases.models import Case, CaseGrant
from jiancha.core.audit import audit_record

logger = logging.getLogger(__name__)
# Case ids named in a grant audit entry (the count is always there).
AUDIT_CASES = 100


@transaction.atomic
def case_grants_create(
    *,
    grants: Iterable[tuple[Case, Any]],
    reason: str,
    reference: str = "",
    granted_by: Any = None,
    expires_at: datetime.datetime | None = None,
) -> list[CaseGrant]:
    """Let each user open its case, for ``reason`` (``GrantReason``) and ``reference``
    (what the grant is for, e.g. ``reviews.plan:12``). A pair that already has an active
    grant for the same reason and reference keeps it (idempotent). Returns the new grants.
    """
    if reason not in GrantReason.values:
        raise ValueError(f"unknown grant reason {reason!r}")
    pairs = {(case.pk, user.pk): (case, user) for case, user in grants}
    if not pairs:
        return []
    existing = set(
        CaseGrant.objects.active()
        .filter(
            reason=reason,
            reference=reference,
            case_id__in={case_pk for case_pk, _user_pk in pairs},
        )
        .values_list("case_id", "user_id")
    )
    now = timezone.now()
    created = CaseGrant.objects.bulk_create(
        [
            CaseGrant(
                case=case,
                user=user,
                reason=reason,
                reference=reference,
                granted_by=granted_by if getattr(granted_by, "pk", None) else None,
                granted_at=now,
                expires_at=expires_at,
            )
            for key, (case, user) in sorted(pairs.items())
            if key not in existing
        ]
    )
    if created:
        audit_record(
            actor=granted_by,
            verb="cases.grant.create",
            target_type="cases.casegrant",
            target_id=reference,
            details={
                "reason": reason,
                "reference": reference,
                "count": len(created),
                "grants": [[grant.case_id, grant.user_id] for grant in created][
                    :AUDIT_CASES
                ],
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
        )
    return created


@transaction.atomic
def case_grants_revoke(
    *,
    reason: str,
    reference: str = "",
    case: Case | None = None,
    user: Any = None,
    revoked_by: Any = None,
) -> int:
    """Revoke the active grants for ``reason`` and ``reference`` (of this case and/or this
    user, when given). The rows stay, with ``revoked_at``. Returns how many were revoked."""
    grants = CaseGrant.objects.filter(
        revoked_at__isnull=True, reason=reason, reference=reference
    )
    if case is not None:
        grants = grants.filter(case=case)
    if user is not None:
        grants = grants.filter(user=user)
    revoked = list(grants.select_for_update().values_list("pk", "case_id", "user_id"))
    if not revoked:
        return 0
    CaseGrant.objects.filter(pk__in=[pk for pk, _case, _user in revoked]).update(
        revoked_at=timezone.now(),
        revoked_by=revoked_by if getattr(revoked_by, "pk", None) else None,
    )
    audit_record(
        actor=revoked_by,
        verb="cases.grant.revoke",
        target_type="cases.casegrant",
        target_id=reference,
        details={
            "reason": reason,
            "reference": reference,
            "count": len(revoked),
            "grants": [[case_pk, user_pk] for _pk, case_pk, user_pk in revoked][
                :AUDIT_CASES
            ],
        },
    )
    return len(revoked)


def notify_cases_changed(
    case_ids: Collection[int] | None = None,
    *,
    changed_since: datetime.datetime | None = None,
    count: int | None = None,
    actor: Any = None,
) -> None:
    """Call the ``CASES_CHANGED_HOOKS`` for these cases after the current transaction
    commits (at once outside a transaction; never if it rolls back).

    Give either ``case_ids`` or, for a large write, ``changed_since`` (see the module
    docstring). Nothing is called for an empty write.
    """
    if case_ids is None and changed_since is None:
        raise ValueError("notify_cases_changed needs case_ids or changed_since")
    ids = tuple(case_ids) if case_ids is not None else None
    if count is None:
        count = len(ids) if ids is not None else None
    if ids is not None and not ids:
        return
    if count == 0:
        return
    transaction.on_commit(
        partial(
            run_cases_changed_hooks,
            case_ids=ids,
            changed_since=changed_since,
            count=count,
            actor=actor,
        )
    )


def run_cases_changed_hooks(
    *,
    case_ids: tuple[int, ...] | None,
    changed_since: datetime.datetime | None,
    count: int | None,
    actor: Any,
) -> None:
    """Call every hook now; a failing hook is logged and the others still run."""
    for path in settings.CASES_CHANGED_HOOKS:
        try:
            hook = import_string(path)
            hook(
                case_ids=case_ids,
                changed_since=changed_since,
                count=count,
                actor=actor,
            )
        except Exception:
            logger.exception(
                "cases-changed hook %s failed (%s cases); the write stands",
                path,
                count if count is not None else "?",
            )
