"""The hash-chained audit log: chaining, append-only models and ``jiancha audit-verify``."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from jiancha.core.audit import GENESIS_HASH, audit_record, audit_verify
from jiancha.core.models import AppendOnlyError, AuditEntry, AuditHead
from jiancha.core.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_entries():
    actor = make_user("admin", "000000")
    return [
        audit_record(
            actor=actor,
            verb="test.act",
            target_type="test.thing",
            target_id=str(n),
            details={"n": n},
        )
        for n in range(1, 6)
    ]


def verify() -> str:
    from io import StringIO

    out = StringIO()
    call_command("audit-verify", stdout=out)
    return out.getvalue()


def raw(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_entries_chain_to_each_other(five_entries):
    entries = list(AuditEntry.objects.order_by("sequence"))

    assert [entry.sequence for entry in entries] == [1, 2, 3, 4, 5]
    assert entries[0].previous_hash == GENESIS_HASH
    for previous, entry in zip(entries, entries[1:], strict=False):
        assert entry.previous_hash == previous.entry_hash
    assert len({entry.entry_hash for entry in entries}) == 5
    head = AuditHead.objects.get()
    assert (head.sequence, head.entry_hash) == (5, entries[-1].entry_hash)


def test_entry_records_actor_target_and_address(rf):
    actor = make_user("procurator", "330106", username="li")
    request = rf.get("/", REMOTE_ADDR="10.0.0.8")

    entry = audit_record(
        actor=actor,
        verb="accounts.user_create",
        target=actor,
        request=request,
        details={"b": 1, "a": 2},
    )

    assert (entry.actor_id, entry.actor_username) == (actor.pk, "li")
    assert (entry.target_type, entry.target_id) == ("accounts.user", str(actor.pk))
    assert entry.remote_addr == "10.0.0.8"
    assert entry.details == '{"a":2,"b":1}'


def test_audit_verify_passes_on_an_intact_log(five_entries):
    assert audit_verify() == (5, None)
    assert "5" in verify()


def test_audit_verify_passes_on_an_empty_log():
    assert audit_verify() == (0, None)
    verify()


@pytest.mark.parametrize(
    ("column", "value"),
    [("details", '{"n":99}'), ("verb", "test.other"), ("actor_username", "someone")],
)
def test_an_edited_entry_is_detected(five_entries, column, value):
    raw(f"UPDATE core_auditentry SET {column} = %s WHERE sequence = %s", [value, 3])

    with pytest.raises(CommandError) as failure:
        verify()

    assert "#3" in str(failure.value)
    assert audit_verify()[1].kind == "tampered"


def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link(five_entries):
    raw("UPDATE core_auditentry SET entry_hash = %s WHERE sequence = %s", ["f" * 64, 2])

    with pytest.raises(CommandError) as failure:
        verify()

    assert "#2" in str(failure.value)


def test_a_deleted_entry_in_the_middle_is_detected(five_entries):
    raw("DELETE FROM core_auditentry WHERE sequence = %s", [3])

    with pytest.raises(CommandError) as failure:
        verify()

    assert "#3" in str(failure.value)
    assert audit_verify()[1].kind == "missing"


def test_a_deleted_last_entry_is_detected(five_entries):
    raw("DELETE FROM core_auditentry WHERE sequence = %s", [5])

    with pytest.raises(CommandError) as failure:
        verify()

    assert "#5" in str(failure.value)


def test_a_deleted_first_entry_is_detected(five_entries):
    raw("DELETE FROM core_auditentry WHERE sequence = %s", [1])

    with pytest.raises(CommandError) as failure:
        verify()

    assert "#1" in str(failure.value)


def test_saving_an_existing_entry_is_refused(five_entries):
    entry = AuditEntry.objects.get(sequence=2)
    entry.verb = "test.rewritten"

    with pytest.raises(AppendOnlyError):
        entry.save()

    assert AuditEntry.objects.get(sequence=2).verb == "test.act"


def test_deleting_an_entry_is_refused(five_entries):
    with pytest.raises(AppendOnlyError):
        AuditEntry.objects.get(sequence=2).delete()

    assert AuditEntry.objects.count() == 5
    assert audit_verify() == (5, None)


def test_the_console_command_exits_non_zero_on_a_broken_log(
    five_entries, monkeypatch, capsys
):
    from django.core.management import execute_from_command_line
    from django.db import connections

    monkeypatch.setattr(connections, "close_all", lambda: None)
    raw("DELETE FROM core_auditentry WHERE sequence = %s", [4])

    with pytest.raises(SystemExit) as exit_info:
        execute_from_command_line(["jiancha", "audit-verify"])

    assert exit_info.value.code != 0
    assert "#4" in capsys.readouterr().err
