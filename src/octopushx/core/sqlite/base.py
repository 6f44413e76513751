"""Django's SQLite backend with the write lock taken in the process first.

SQLite lets one writer at a time into the database. A second thread whose ``BEGIN IMMEDIATE`` finds
the lock taken does not wait for it to be released: SQLite's busy handler sleeps in growing steps
(1, 2, 5, 10 … 100 ms) and tries again, so under concurrent writes a request often sleeps tens of
milliseconds after the lock came free, and the latest arrivals starve. Threads of one process (the
web server's, the in-process job consumer's) instead queue on a process-wide lock before they ask
SQLite, and each is woken the moment the previous transaction ends; other processes (a separate
``octopushx worker``) still meet the busy handler, as before.

The process lock is given up after the connection's busy timeout, whatever happens, and the
transaction then asks SQLite as it always did: the lock can make a writer wait no longer than
SQLite would have.
"""

from __future__ import annotations

import threading

from django.db.backends.sqlite3 import base

WRITE_LOCK = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
    _holds_write_lock = False

    def _start_transaction_under_autocommit(self):
        if self.transaction_mode == "IMMEDIATE" and not self._holds_write_lock:
            timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
            self._holds_write_lock = WRITE_LOCK.acquire(timeout=timeout)
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_write_lock()
            raise

    def _release_write_lock(self):
        if self._holds_write_lock:
            self._holds_write_lock = False
            WRITE_LOCK.release()

    def _commit(self):
        try:
            super()._commit()
        finally:
            self._release_write_lock()

    def _rollback(self):
        try:
            super()._rollback()
        finally:
            self._release_write_lock()

    def _close(self):
        try:
            super()._close()
        finally:
            self._release_write_lock()
