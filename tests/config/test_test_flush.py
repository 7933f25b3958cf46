"""The flush between transactional tests cannot deadlock with another process's transaction.

The e2e tests' uvicorn server or a Celery worker may still be finishing a transaction when a test ends and
its database is flushed. Django's own flush (one TRUNCATE, locking table after table) deadlocked against such
a transaction once in CI; tests/conftest.py takes every lock first, all or none.
"""

from __future__ import annotations

import re
import threading
import time

import psycopg
import pytest
from django.core.management.color import no_style
from django.core.management.sql import sql_flush
from django.db import connection

pytestmark = pytest.mark.django_db(transaction=True)


def test_flush_waits_for_a_transaction_that_locks_tables_in_the_opposite_order():
    flush = sql_flush(no_style(), connection)
    tables = re.findall(r'"([^"]+)"', flush[0])  # in the order the TRUNCATE locks them
    # The other transaction holds a lock on the table the TRUNCATE reaches last, then wants the first one:
    # with a table-by-table TRUNCATE, each waits for the other.
    params = {k: v for k, v in connection.get_connection_params().items() if k not in {"context", "cursor_factory"}}
    other = psycopg.connect(**params)
    other.execute(f'LOCK TABLE "{tables[-1]}" IN ROW EXCLUSIVE MODE')
    outcome: dict[str, object] = {}

    def finish_the_other_transaction():
        time.sleep(1.0)  # the flush has started by now
        try:
            other.execute(f'LOCK TABLE "{tables[0]}" IN ROW EXCLUSIVE MODE')
            other.commit()
            outcome["other"] = "committed"
        except psycopg.Error as exc:
            outcome["other"] = exc
        finally:
            other.close()

    thread = threading.Thread(target=finish_the_other_transaction)
    thread.start()
    try:
        connection.ops.execute_sql_flush(flush)
        outcome["flush"] = "done"
    except Exception as exc:
        outcome["flush"] = exc
    thread.join(30)

    assert outcome == {"other": "committed", "flush": "done"}
