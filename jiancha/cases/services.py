"""Writing cases: telling the apps above that cases changed (issue 3 §3).

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
from collections.abc import Collection
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


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
