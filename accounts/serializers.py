"""API shapes of user accounts. Input serializers check types only; the rules (who may, nobody locking
themselves out, password rules, a taken username) are in accounts.services and come back as 400s."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from accounts.roles import Role


class UserSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(source="get_full_name", read_only=True)
    roles = serializers.SerializerMethodField()
    mfa_enrolled = serializers.SerializerMethodField()
    sign_in_failures = serializers.SerializerMethodField()

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "full_name", "email", "is_active", "roles", "mfa_enrolled", "sign_in_failures",
                  "last_login", "date_joined"]
        read_only_fields = fields

    def get_roles(self, user) -> list[str]:
        return sorted(group.name for group in user.groups.all())  # prefetched by users_for_management

    def get_mfa_enrolled(self, user) -> bool:
        return bool(getattr(user, "mfa_enrolled", False))

    def get_sign_in_failures(self, user) -> int:
        """failed sign-ins counted in the current window; LOGIN_FAILURE_LIMIT or more: locked out"""
        return self.context.get("sign_in_failures", {}).get(user.pk, 0)


class UserCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(write_only=True, trim_whitespace=False,
                                     help_text="the first password; the password rules apply (12 characters...)")
    full_name = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)
    email = serializers.EmailField(required=False, default="", allow_blank=True)
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), required=False, default=list)


class UserRolesSerializer(serializers.Serializer):
    roles = serializers.ListField(child=serializers.ChoiceField(choices=Role.choices), allow_empty=True,
                                  help_text="every role the user is to hold; the others are removed")


class MfaResetSerializer(serializers.Serializer):
    devices_removed = serializers.IntegerField(read_only=True)
