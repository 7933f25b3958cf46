"""REST API for subject access requests (oversight): search and the per-person report."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema

from core.api import ApiView, errors
from oversight import serializers as s
from oversight import subject_access as sar

SUBJECT_ACCESS = ["subject access"]


class SubjectAccessSearchView(ApiView):
    @extend_schema(tags=SUBJECT_ACCESS, summary="Everything held about the people a reference or name points to",
                   description="A reference matches exactly; a name in part, ignoring case and accents (at least "
                               f"{sar.MIN_QUERY_LENGTH} characters). Searches subjects (purged ones too), watchlists, "
                               "deployment manifests and alerts; at most "
                               f"{sar.MAX_PEOPLE} people. Every search is audited.",
                   parameters=[OpenApiParameter("q", OpenApiTypes.STR, required=True,
                                                description="a full reference, or part of a name")],
                   responses={200: s.SubjectAccessResultSerializer, **errors(400)})
    def get(self, request):
        result = sar.subject_access_search(user=request.user, query=request.query_params.get("q", ""))
        return self.output(s.SubjectAccessResultSerializer, result)


class SubjectAccessReportView(ApiView):
    @extend_schema(tags=SUBJECT_ACCESS, summary="The subject access report for one person (an audited export)",
                   responses={200: s.SubjectAccessReportSerializer, **errors(404)})
    def get(self, request, subject_id: int):
        person = sar.subject_access_report(user=request.user, subject_id=subject_id, export_format="json")
        response = self.output(s.SubjectAccessReportSerializer, {"person": person, "rows": sar.report_rows(person)})
        response["Cache-Control"] = "no-store, private"
        return response
