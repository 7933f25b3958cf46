"""Passwords are checked in their own small thread pool (`LOGIN_HASH_THREADS`).

Under ASGI Django runs every synchronous view on one shared thread, so a view that hashes a password
(about 0.3-0.6 s with PBKDF2 at Django's iterations) holds up every other page and API call behind it:
under a flood of wrong passwords an officer's alert feed waited seconds. Here the database work stays on
that thread (quick, and where a test's transaction is visible); only the hash, which needs no database and
releases the GIL, runs in the pool.
"""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.hashers import make_password, verify_password
from django.contrib.auth.signals import user_login_failed

BACKEND = "django.contrib.auth.backends.ModelBackend"


@functools.cache
def _pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="password-check")


def _user_named(username: str):
    UserModel = get_user_model()
    try:
        return UserModel._default_manager.get_by_natural_key(username)
    except UserModel.DoesNotExist:
        return None


def _password_upgraded(user, encoded: str) -> None:
    user.password = encoded
    user.save(update_fields=["password"])


async def password_check(*, request, username: str, password: str):
    """What authenticate() with the ModelBackend answers: the user, or None after user_login_failed."""
    loop = asyncio.get_running_loop()
    pool = _pool(settings.LOGIN_HASH_THREADS)
    user = await sync_to_async(_user_named)(username)
    if user is None:
        # The same work as for a real account, as ModelBackend does: no telling names apart by timing.
        await loop.run_in_executor(pool, make_password, password)
        correct = False
    else:
        correct, must_update = await loop.run_in_executor(pool, verify_password, password, user.password)
        if correct and must_update:
            await sync_to_async(_password_upgraded)(user, await loop.run_in_executor(pool, make_password, password))
    if correct and ModelBackend().user_can_authenticate(user):
        user.backend = BACKEND
        return user
    await sync_to_async(user_login_failed.send)(sender=__name__, credentials={"username": username},
                                                request=request)
    return None
