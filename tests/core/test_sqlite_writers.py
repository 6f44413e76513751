"""The SQLite backend's process write lock (core/sqlite): writers of one process queue for SQLite's
write lock in the process, are woken as soon as it is free, and never keep it past their transaction."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import IntegrityError, connection, connections, transaction

from octopushx.core.sqlite.base import WRITE_LOCK
from octopushx.tenancy.models import Organization
from tests.core.backup_support import sqlite_only

pytestmark = [sqlite_only, pytest.mark.django_db(transaction=True)]


def test_the_lock_is_held_for_the_transaction_only():
    with transaction.atomic():
        Organization.objects.create(name="Held")
        assert WRITE_LOCK.locked() and connection._holds_write_lock
    assert not WRITE_LOCK.locked()
    with pytest.raises(RuntimeError), transaction.atomic():
        Organization.objects.create(name="Rolled back")
        raise RuntimeError
    assert not WRITE_LOCK.locked()
    assert not Organization.objects.filter(name="Rolled back").exists()


def test_a_failed_write_or_a_closed_connection_gives_the_lock_back():
    Organization.objects.create(name="Taken")
    with pytest.raises(IntegrityError), transaction.atomic():
        Organization.objects.create(id=Organization.objects.get(name="Taken").pk, name="Twin")
    assert not WRITE_LOCK.locked()
    with transaction.atomic():
        Organization.objects.create(name="Never committed")
        assert WRITE_LOCK.locked()
        connection.close()  # a thread that dies mid-transaction closes its connection
        assert not WRITE_LOCK.locked()
    assert not Organization.objects.filter(name="Never committed").exists()
    with transaction.atomic():  # and the next writer gets it at once
        Organization.objects.create(name="Next")


def test_concurrent_writers_queue_without_sleeping_or_failing():
    """Eight threads, 25 write transactions each: all commit, none fails with "database is locked",
    and none starves in SQLite's busy-handler sleeps (up to 100 ms a try) while others get in."""
    errors: list[Exception] = []
    waits: list[float] = []
    lock = threading.Lock()

    def writer(number: int) -> None:
        try:
            for index in range(25):
                asked = time.perf_counter()
                with transaction.atomic():
                    got = time.perf_counter()
                    # one row, without the signals that set up a new organisation (shipped trackers)
                    Organization.objects.bulk_create([Organization(name=f"Writer {number}-{index}")])
                    time.sleep(0.003)  # the rest of a request's transaction (audit, events): other threads run
                with lock:
                    waits.append(got - asked)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Organization.objects.filter(name__startswith="Writer ").count() == 200
    assert not WRITE_LOCK.locked()
    # Queued writers are served in turn, woken when the lock is released: the longest wait is a few
    # transactions long (measured 0.08 s), where SQLite's busy handler let one starve (0.76 s).
    assert max(waits) < 0.4
