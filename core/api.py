"""What every API view shares: the error format, pagination, the base view and id resolution.

The API holds no domain rules. Views turn a request into a call of a service or selector and the
result into JSON; services decide, and their errors become responses here:

- ``RuleViolation`` and any other Django ``ValidationError`` -> 400 ``{"errors": [message, ...]}``
- ``ConcurrentEditError`` (a stale ``expected_version``) -> 409 ``{"errors": [message]}``
- ``Gone`` (an image file missing from storage, a purged image) -> 410 ``{"errors": [message]}``
- ``PermissionDenied`` -> 403 and ``Http404`` -> 404 ``{"detail": message}`` (DRF's default)
- malformed input caught by a serializer -> 400 ``{"field": [message, ...]}`` (DRF's default)
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView, exception_handler, set_rollback

from core.errors import ConcurrentEditError, Gone

PAGE_SIZE = 50


def api_exception_handler(exc, context):
    """DRF's handler, plus the services' Django ValidationErrors (400), stale edits (409) and Gone (410)."""
    if isinstance(exc, Gone):  # no rollback: the audit of the attempt stays
        return Response({"errors": [str(exc)]}, status=status.HTTP_410_GONE)
    if isinstance(exc, DjangoValidationError):
        code = status.HTTP_409_CONFLICT if isinstance(exc, ConcurrentEditError) else status.HTTP_400_BAD_REQUEST
        set_rollback()
        return Response({"errors": list(exc.messages)}, status=code)
    return exception_handler(exc, context)


class ApiPagination(PageNumberPagination):
    """``?page=N``; 50 rows a page, fixed, so no client can ask for the whole table at once."""

    page_size = PAGE_SIZE
    page_query_param = "page"
    max_page_size = PAGE_SIZE


# Base of every API view. REST_FRAMEWORK's default permissions admit authenticated users only (token, or
# session with CSRF) and then check ``required_capabilities`` (accounts.permissions.HasRequiredCapabilities). DRF marks its views
# exempt from Django's LoginRequiredMiddleware (``login_required = False``), so an anonymous API call
# gets a 403 JSON answer, never a redirect to the login page. The services and selectors each view calls
# check capabilities and object access; ``required_capabilities`` (method -> any one of these) refuses a
# role that can never do the write before its input is read, so a caller without the role gets 403,
# not a 400 about fields it may not send. (A comment, not a docstring: drf-spectacular would copy a
# docstring into every operation's description.)
class ApiView(APIView):
    pagination_class = ApiPagination  # used by paginated(); tells drf-spectacular list answers are pages
    required_capabilities: dict[str, tuple[str, ...]] = {}

    def paginated(self, queryset: QuerySet, serializer_class) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        data = serializer_class(page, many=True, context={"request": self.request}).data
        return paginator.get_paginated_response(data)

    def input(self, serializer_class, **kwargs) -> dict:
        """The request body, validated by the serializer (shape only); 400 with field errors otherwise."""
        serializer = serializer_class(data=self.request.data, context={"request": self.request}, **kwargs)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def output(self, serializer_class, instance, *, status_code: int = status.HTTP_200_OK,
               headers: dict | None = None) -> Response:
        return Response(serializer_class(instance, context={"request": self.request}).data, status=status_code,
                        headers=headers)


# Base of an API view whose success answer is an image's bytes (core.images.image_response).
class ImageApiView(ApiView):
    def perform_content_negotiation(self, request, force=False):
        # The success answer is the raw image; errors fall back to JSON whatever the Accept header asks.
        return super().perform_content_negotiation(request, force=True)


def resolve_ids(queryset: QuerySet, ids: Iterable[int], *, what: str) -> list:
    """The rows of ``queryset`` (a selector's, so already permission-scoped) with these ids, in the order
    given; unknown ids are a 400 naming them, not a 404 of the whole request."""
    wanted = list(dict.fromkeys(ids))
    found = {obj.pk: obj for obj in queryset.filter(pk__in=wanted)}
    missing = [str(pk) for pk in wanted if pk not in found]
    if missing:
        raise DjangoValidationError(f"no such {what}: {', '.join(missing)}")
    return [found[pk] for pk in wanted]


def resolve_id(queryset: QuerySet, pk: int, *, what: str):
    return resolve_ids(queryset, [pk], what=what)[0]


# --- documented error bodies ---------------------------------------------------------------------

class ErrorsSerializer(serializers.Serializer):
    errors = serializers.ListField(child=serializers.CharField(), help_text="what stands in the way, in words")


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


ERROR_400 = OpenApiResponse(ErrorsSerializer, description="refused by a rule, with the reasons (or field errors "
                                                            "of malformed input)")
ERROR_403 = OpenApiResponse(DetailSerializer, description="not signed in, or the role does not allow it")
ERROR_404 = OpenApiResponse(DetailSerializer, description="no such object")
ERROR_409 = OpenApiResponse(ErrorsSerializer, description="changed by someone else since expected_version; reload")
ERROR_410 = OpenApiResponse(ErrorsSerializer, description="the record exists but its file does not (missing from "
                                                            "storage, or purged)")


IMAGE_BYTES = {(200, "image/*"): OpenApiResponse(OpenApiTypes.BINARY, description="the image bytes (JPEG, PNG, GIF "
                                                                            "or WebP; anything else as "
                                                                            "application/octet-stream)")}


def errors(*codes: int) -> dict:
    """The error responses of an operation, for ``@extend_schema(responses=...)``; 403 is always possible."""
    table = {400: ERROR_400, 403: ERROR_403, 404: ERROR_404, 409: ERROR_409, 410: ERROR_410}
    return {code: table[code] for code in sorted({403, *codes})}
