"""Writing and verifying the hash-chained audit log (ADR 0003)."""

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from jiancha.core.models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64


def _canonical_time(value: datetime) -> str:
    return value.astimezone(timezone.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_digest(
    *,
    sequence: int,
    previous_hash: str,
    created_at: datetime,
    actor_id: int | None,
    actor_username: str,
    verb: str,
    target_type: str,
    target_id: str,
    remote_addr: str,
    details: str,
) -> str:
    """The SHA-256 of an entry's fields and the previous entry's hash."""
    payload = "\x1f".join(
        [
            str(sequence),
            previous_hash,
            _canonical_time(created_at),
            "" if actor_id is None else str(actor_id),
            actor_username,
            verb,
            target_type,
            target_id,
            remote_addr,
            details,
        ]
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def client_address(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded:
        return forwarded.split(",")[0].strip()[:64]
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


def _lock_chain() -> None:
    """Serialise appends so that two writers never chain to the same entry."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(7171001)")
    # SQLite runs write transactions in IMMEDIATE mode (settings), which already
    # serialises writers.


@transaction.atomic
def audit_record(
    *,
    actor: Any = None,
    verb: str,
    target: Any = None,
    target_type: str = "",
    target_id: str = "",
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the audit log, chained to the previous one."""
    _lock_chain()
    head, _created = AuditHead.objects.select_for_update().get_or_create(id=1)
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    actor_username = getattr(actor, "username", "") or "" if actor is not None else "system"
    if actor is not None and not getattr(actor, "is_authenticated", True):
        actor_id, actor_username = None, "anonymous"
    details_json = orjson.dumps(details or {}, option=orjson.OPT_SORT_KEYS).decode()
    created_at = timezone.now()
    sequence = head.sequence + 1
    remote_addr = client_address(request)
    digest = entry_digest(
        sequence=sequence,
        previous_hash=head.entry_hash,
        created_at=created_at,
        actor_id=actor_id,
        actor_username=actor_username,
        verb=verb,
        target_type=target_type,
        target_id=target_id,
        remote_addr=remote_addr,
        details=details_json,
    )
    entry = AuditEntry(
        sequence=sequence,
        created_at=created_at,
        actor_id=actor_id,
        actor_username=actor_username,
        verb=verb,
        target_type=target_type,
        target_id=target_id[:128],
        remote_addr=remote_addr,
        details=details_json,
        previous_hash=head.entry_hash,
        entry_hash=digest,
    )
    entry.save()
    head.sequence = sequence
    head.entry_hash = digest
    head.save(update_fields=["sequence", "entry_hash"])
    return entry


@dataclass(frozen=True)
class AuditProblem:
    sequence: int
    kind: str  # "tampered" | "missing" | "truncated"
    message: str


def _entries() -> Iterator[AuditEntry]:
    last = 0
    while True:
        batch = list(AuditEntry.objects.filter(sequence__gt=last).order_by("sequence")[:5000])
        if not batch:
            return
        yield from batch
        last = batch[-1].sequence


def audit_verify() -> tuple[int, AuditProblem | None]:
    """Walk the chain; return the number of entries checked and the first problem."""
    expected_sequence = 1
    previous_hash = GENESIS_HASH
    checked = 0
    for entry in _entries():
        if entry.sequence != expected_sequence:
            return checked, AuditProblem(
                expected_sequence,
                "missing",
                f"entry #{expected_sequence} is missing (next present entry is #{entry.sequence})",
            )
        if entry.previous_hash != previous_hash:
            return checked, AuditProblem(
                entry.sequence,
                "tampered",
                f"entry #{entry.sequence} does not chain to entry #{entry.sequence - 1}",
            )
        digest = entry_digest(
            sequence=entry.sequence,
            previous_hash=entry.previous_hash,
            created_at=entry.created_at,
            actor_id=entry.actor_id,
            actor_username=entry.actor_username,
            verb=entry.verb,
            target_type=entry.target_type,
            target_id=entry.target_id,
            remote_addr=entry.remote_addr,
            details=entry.details,
        )
        if digest != entry.entry_hash:
            return checked, AuditProblem(
                entry.sequence, "tampered", f"entry #{entry.sequence} was altered (hash mismatch)"
            )
        previous_hash = entry.entry_hash
        expected_sequence += 1
        checked += 1
    head = AuditHead.objects.filter(id=1).first()
    if head is not None and head.sequence >= expected_sequence:
        return checked, AuditProblem(
            expected_sequence,
            "missing",
            f"entry #{expected_sequence} is missing (the log recorded {head.sequence} entries)",
        )
    if head is not None and head.sequence and head.entry_hash != previous_hash:
        return checked, AuditProblem(head.sequence, "tampered", f"entry #{head.sequence} was altered (head hash mismatch)")
    return checked, None
