"""Shared fixtures: one user per role, plus an outsider with no role."""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import Group

from accounts.roles import Role

TEST_PASSWORD = "correct-horse-battery-staple"
_counter = itertools.count()


@pytest.fixture
def make_user(db, django_user_model):
    def make(*roles: Role, username: str | None = None, **extra):
        user = django_user_model.objects.create_user(
            username=username or f"user{next(_counter)}", password=TEST_PASSWORD, **extra)
        user.groups.set(Group.objects.filter(name__in=[r.value for r in roles]))
        return user

    return make


@pytest.fixture
def detective(make_user):
    return make_user(Role.DETECTIVE, username="det_smith", first_name="Sam", last_name="Smith")


@pytest.fixture
def commander(make_user):
    return make_user(Role.AUTHORISING_OFFICER, username="supt_jones", first_name="Jo", last_name="Jones")


@pytest.fixture
def officer(make_user):
    return make_user(Role.OFFICER, username="pc_brown")


@pytest.fixture
def oversight(make_user):
    return make_user(Role.OVERSIGHT, username="commissioner")


@pytest.fixture
def administrator(make_user):
    return make_user(Role.ADMIN, username="sysadmin")


@pytest.fixture
def outsider(make_user):
    return make_user(username="no_role")


@pytest.fixture
def client_as(client):
    def login(user):
        client.force_login(user)
        return client

    return login
