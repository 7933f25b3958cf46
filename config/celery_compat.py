"""Compatibility patches for kombu's Redis transport and celery's consumer steps, applied when the Celery app is
set up (config/celery.py).

The bug (kombu 5.7.0 with celery 5.7.0): a worker holding an unacknowledged message (an `acks_late` task still
running, such as a camera loop) while it has a BRPOP outstanding (a free pool slot) dies when Redis goes away:

1. the consumer sees the connection drop and calls `Connection.collect()`, which closes the default channel;
   `Channel.close()` first reads the reply of the outstanding BRPOP, which raises `ConnectionError`, and the
   rest of `close()` (drop the pools, restore the unacknowledged messages, mark the channel closed) is skipped;
   `collect()` ignores the error and then detaches the transport (`transport.client = None`);
2. celery 5.7.0 then also calls `connection.close()` ("close the broken connection so the old socket is
   released"), which closes the same half-open channel again; this time there is no BRPOP to read, so it goes on
   to restore the unacknowledged message ("Restoring 1 unacknowledged message(s)"), needs a new connection pool,
   and reads the host name from the detached transport: `AttributeError: 'NoneType' object has no attribute
   'hostname'`. That is not a connection error, so it escapes the consumer's retry loop ("Unrecoverable
   error") and the worker shuts down.

A worker with every slot busy (no BRPOP outstanding) or with nothing unacknowledged survives, which is why a
single-queue worker whose only slot ran the camera loop came through.

The patch: a connection error while draining the outstanding BRPOP means there is nothing left to drain, so
`close()` goes on and closes the channel the first time, while the transport is still attached. Restoring the
unacknowledged message then fails with an ordinary connection error (Redis is down), which `collect()` ignores;
the message stays in Redis's unacked set and is restored after the visibility timeout if its task never acks it.

A second, smaller one: after step 2 the consumer's connection is None, and restarting a consumer step (Gossip)
logs "Error on restarting Gossip: AttributeError(... 'connection_errors')" with a traceback at every broker
restart, which reads like a failure. Its channels were closed with that connection, so there is nothing to do.
"""

from __future__ import annotations

import functools
from queue import Empty

import celery
import kombu
from celery import bootsteps
from kombu.transport import redis as kombu_redis

# Remove the patches when kombu's Channel.close() no longer lets a failed BRPOP drain abort the close, and when
# celery's consumer steps no longer close their channels through a connection it has dropped.
PATCHED_KOMBU_VERSIONS = ("5.7.",)
PATCHED_CELERY_VERSIONS = ("5.7.",)


def _replace_once(owner: type, name: str, wrap) -> None:
    """Replace `owner.name` with `wrap(original)`, once however often the app is set up."""
    original = getattr(owner, name)
    if getattr(original, "lfr_patched", False):
        return
    replacement = functools.wraps(original)(wrap(original))
    replacement.lfr_patched = True
    setattr(owner, name, replacement)


def redis_channel_close_patch() -> bool:
    """Apply the patch (once); False when this kombu version does not need it."""
    if not kombu.__version__.startswith(PATCHED_KOMBU_VERSIONS):
        return False

    def wrap(close):
        def close_despite_a_dead_broker(self) -> None:
            if self._in_poll:
                try:
                    self._brpop_read()  # sets _in_poll to None whatever happens, so close() will not read again
                except Empty:
                    pass
                except self.connection_errors:
                    pass
            close(self)
        return close_despite_a_dead_broker

    _replace_once(kombu_redis.Channel, "close", wrap)
    return True


def consumer_step_close_patch() -> bool:
    """Apply the second patch (once); False when this celery version does not need it."""
    if not celery.__version__.startswith(PATCHED_CELERY_VERSIONS):
        return False

    def wrap(close):
        def close_unless_the_connection_is_gone(self, c, cancel_consumers=True) -> None:
            if c.connection is None:  # closed after a connection loss, and its channels with it
                return
            close(self, c, cancel_consumers)
        return close_unless_the_connection_is_gone

    _replace_once(bootsteps.ConsumerStep, "_close", wrap)
    return True
