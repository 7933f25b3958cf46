import pytest
from django.contrib.auth.models import Group

from accounts.roles import CAPABILITIES, ROLE_PERMISSIONS, Role
from accounts.selectors import user_can, user_roles
from accounts.services import roles_sync


@pytest.mark.django_db
def test_every_role_is_a_group_with_exactly_its_permissions():
    for role in Role:
        group = Group.objects.get(name=role.value)
        assert set(group.permissions.values_list("codename", flat=True)) == set(ROLE_PERMISSIONS[role])


@pytest.mark.django_db
def test_sync_repairs_a_hand_edited_group():
    group = Group.objects.get(name=Role.OFFICER.value)
    group.permissions.clear()
    roles_sync()
    assert set(group.permissions.values_list("codename", flat=True)) == set(ROLE_PERMISSIONS[Role.OFFICER])


def test_the_table_only_names_known_capabilities():
    for codenames in ROLE_PERMISSIONS.values():
        assert codenames <= set(CAPABILITIES)


@pytest.mark.django_db
@pytest.mark.parametrize("fixture, allowed, denied", [
    ("detective", {"manage_watchlist", "plan_deployment"}, {"approve_watchlist", "authorise_deployment", "view_audit_log"}),
    ("commander", {"approve_watchlist", "authorise_deployment", "stop_deployment"}, {"manage_watchlist", "adjudicate_alert"}),
    ("officer", {"view_alerts", "adjudicate_alert"}, {"view_watchlist", "view_biometric_data", "authorise_deployment"}),
    ("oversight", {"view_audit_log", "export_audit_log", "view_statistics"}, {"manage_watchlist", "authorise_deployment", "adjudicate_alert"}),
    ("administrator", {"manage_users"}, {"view_biometric_data", "view_watchlist", "authorise_deployment"}),
    ("outsider", set(), set(CAPABILITIES)),
])
def test_role_permissions(request, fixture, allowed, denied):
    user = request.getfixturevalue(fixture)
    for capability in allowed:
        assert user_can(user=user, capability=capability), capability
    for capability in denied:
        assert not user_can(user=user, capability=capability), capability


@pytest.mark.django_db
def test_a_user_may_hold_several_roles(make_user):
    user = make_user(Role.DETECTIVE, Role.OFFICER)
    assert user_roles(user=user) == ["detective", "officer"]
    assert user_can(user=user, capability="manage_watchlist") and user_can(user=user, capability="adjudicate_alert")


@pytest.mark.django_db
def test_a_deactivated_user_has_no_capabilities(commander):
    commander.is_active = False
    commander.save()
    assert not user_can(user=commander, capability="authorise_deployment")


@pytest.mark.django_db
def test_sync_audits_what_it_changed():
    from audit.models import AuditEvent

    group = Group.objects.get(name=Role.OFFICER.value)
    group.permissions.remove(*group.permissions.filter(codename="adjudicate_alert"))
    assert roles_sync() == ["officer"]
    event = AuditEvent.objects.get(action="role.permissions_changed")
    assert event.target_id == str(group.pk) and event.actor is None
    assert event.details == {"role": "officer", "added": ["adjudicate_alert"], "removed": [],
                             "other_permissions_removed": False}
    assert roles_sync() == []  # nothing to change, nothing audited
    assert AuditEvent.objects.filter(action="role.permissions_changed").count() == 1


# Each capability means one thing; who holds the ones split out of authorise_deployment, spelled out.
@pytest.mark.parametrize("capability, holders", [
    ("authorise_deployment", {Role.AUTHORISING_OFFICER}),
    ("cancel_deployment", {Role.AUTHORISING_OFFICER}),
    ("view_all_deployments", {Role.DETECTIVE, Role.AUTHORISING_OFFICER, Role.OVERSIGHT}),
    ("watch_alerts", {Role.AUTHORISING_OFFICER, Role.OVERSIGHT}),
    ("record_test_walk", {Role.AUTHORISING_OFFICER}),
])
def test_who_holds_each_split_capability(capability, holders):
    assert {role for role, held in ROLE_PERMISSIONS.items() if capability in held} == holders


@pytest.mark.django_db
def test_the_split_migration_gives_existing_groups_what_the_old_capabilities_granted():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("accounts.migrations.0003_capabilities_split")
    for group in Group.objects.all():  # the groups as they were before the split
        group.permissions.remove(*group.permissions.filter(codename__in=migration.NEW_CAPABILITIES))
    migration.grant(apps, None)
    for role in Role:
        group = Group.objects.get(name=role.value)
        assert set(group.permissions.values_list("codename", flat=True)) == set(ROLE_PERMISSIONS[role]), role
