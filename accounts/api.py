"""REST API for user accounts (manage_users): list, create, set roles, deactivate, reactivate, unlock, reset the
authenticator. The same services as the users page, so the same rules and the same audit events."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from accounts import serializers as s
from accounts import services
from accounts.policies import MANAGE_USERS_CAPABILITIES, OWN_DEACTIVATION_REFUSED, OWN_MANAGE_USERS_REFUSED
from accounts.roles import Role
from accounts.selectors import access_managed_user, sign_in_failures, users_for_management
from core.api import ApiView, errors

USERS = ["users"]
_EVERY_METHOD = dict.fromkeys(("GET", "POST", "PUT"), MANAGE_USERS_CAPABILITIES)


class _UsersApiView(ApiView):
    required_capabilities = _EVERY_METHOD

    def user_output(self, user, *, status_code: int = status.HTTP_200_OK, headers=None):
        user = access_managed_user(actor=self.request.user, id=user.pk)  # fresh, with its annotations
        data = s.UserSerializer(user, context={"request": self.request,
                                               "sign_in_failures": sign_in_failures(users=[user])}).data
        return Response(data, status=status_code, headers=headers)


class UserListView(_UsersApiView):
    @extend_schema(tags=USERS, summary="Users, with their roles, authenticator and failed sign-ins",
                   responses={200: s.UserSerializer(many=True), **errors()})
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(users_for_management(actor=request.user), request, view=self)
        context = {"request": request, "sign_in_failures": sign_in_failures(users=page)}
        return paginator.get_paginated_response(s.UserSerializer(page, many=True, context=context).data)

    @extend_schema(tags=USERS, summary="Create a user", request=s.UserCreateSerializer,
                   responses={201: s.UserSerializer, **errors(400)})
    def post(self, request):
        data = self.input(s.UserCreateSerializer)
        user = services.user_create(actor=request.user, username=data["username"], password=data["password"],
                                    roles=[Role(r) for r in data["roles"]], full_name=data["full_name"],
                                    email=data["email"])
        return self.user_output(user, status_code=status.HTTP_201_CREATED,
                                headers={"Location": reverse("api:user-detail", kwargs={"pk": user.pk})})


class UserDetailView(_UsersApiView):
    @extend_schema(tags=USERS, summary="A user", responses={200: s.UserSerializer, **errors(404)})
    def get(self, request, pk: int):
        return self.user_output(access_managed_user(actor=request.user, id=pk))


class UserRolesView(_UsersApiView):
    @extend_schema(tags=USERS, summary="Set a user's roles", request=s.UserRolesSerializer,
                   description=f"Refused (400) when it would remove your own right to manage users: "
                               f"{OWN_MANAGE_USERS_REFUSED}.",
                   responses={200: s.UserSerializer, **errors(400, 404)})
    def put(self, request, pk: int):
        user = access_managed_user(actor=request.user, id=pk)
        roles = self.input(s.UserRolesSerializer)["roles"]
        services.user_roles_set(actor=request.user, user=user, roles=[Role(r) for r in roles])
        return self.user_output(user)


class UserDeactivateView(_UsersApiView):
    @extend_schema(tags=USERS, summary="Deactivate a user (they can no longer sign in)", request=None,
                   description=f"Refused (400) for your own account: {OWN_DEACTIVATION_REFUSED}.",
                   responses={200: s.UserSerializer, **errors(400, 404)})
    def post(self, request, pk: int):
        user = services.user_deactivate(actor=request.user, user=access_managed_user(actor=request.user, id=pk))
        return self.user_output(user)


class UserReactivateView(_UsersApiView):
    @extend_schema(tags=USERS, summary="Reactivate a deactivated user", request=None,
                   responses={200: s.UserSerializer, **errors(400, 404)})
    def post(self, request, pk: int):
        user = services.user_reactivate(actor=request.user, user=access_managed_user(actor=request.user, id=pk))
        return self.user_output(user)


class UserUnlockView(_UsersApiView):
    @extend_schema(tags=USERS, summary="Forget a user's failed sign-ins, so they may sign in at once",
                   request=None, responses={200: s.UserSerializer, **errors(404)})
    def post(self, request, pk: int):
        user = access_managed_user(actor=request.user, id=pk)
        services.user_unlock(actor=request.user, user=user)
        return self.user_output(user)


class UserMfaResetView(_UsersApiView):
    @extend_schema(tags=USERS, summary="Remove a user's authenticator (lost phone): they enrol again at next sign-in",
                   request=None, responses={200: s.MfaResetSerializer, **errors(404)})
    def post(self, request, pk: int):
        removed = services.mfa_device_reset(actor=request.user, user=access_managed_user(actor=request.user, id=pk))
        return self.output(s.MfaResetSerializer, {"devices_removed": removed})
