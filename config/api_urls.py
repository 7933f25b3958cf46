"""The REST API under /api/: every app's routes, the OpenAPI schema and its browsable page.

Every API view here is exempt from LoginRequiredMiddleware (DRF marks its views so, and `_api` makes
sure of it): the API answers an anonymous call with 403 JSON, never with a redirect to the login page.
The schema needs a signed-in user like the rest. The docs page is for people, so an anonymous visitor
is redirected to the login page; it loads Swagger UI from drf-spectacular-sidecar's static files, not
from a CDN, with no inline script or style (core/csp.py).
"""

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated

from accounts import api as accounts
from alerts import api as alerts
from audit import api as audit
from deployments import api as deployments
from oversight import api as oversight
from reports import api as reports
from watchlists import api as watchlists

app_name = "api"


def _api(view_class, **initkwargs):
    return login_not_required(view_class.as_view(**initkwargs))


def _page(view_class, **initkwargs):
    """An HTML page for people: an anonymous visitor is sent to the login page like elsewhere in the portal."""
    view = view_class.as_view(**initkwargs)
    view.login_required = True  # undo DRF's exemption, so LoginRequiredMiddleware redirects
    return view


urlpatterns = [
    # watchlists
    path("watchlists/", _api(watchlists.WatchlistListView), name="watchlist-list"),
    path("watchlists/approval-queue/", _api(watchlists.WatchlistApprovalQueueView), name="watchlist-approval-queue"),
    path("watchlists/<int:pk>/", _api(watchlists.WatchlistDetailView), name="watchlist-detail"),
    path("watchlists/<int:pk>/subjects", _api(watchlists.WatchlistSubjectsView), name="watchlist-subjects"),
    path("watchlists/<int:pk>/subjects/<int:subject_id>", _api(watchlists.WatchlistSubjectRemoveView),
         name="watchlist-subject"),
    path("watchlists/<int:pk>/submit", _api(watchlists.WatchlistSubmitView), name="watchlist-submit"),
    path("watchlists/<int:pk>/approve", _api(watchlists.WatchlistApproveView), name="watchlist-approve"),
    path("watchlists/<int:pk>/reject", _api(watchlists.WatchlistRejectView), name="watchlist-reject"),
    path("watchlists/<int:pk>/review", _api(watchlists.WatchlistReviewView), name="watchlist-review"),
    path("watchlists/<int:pk>/imports", _api(watchlists.WatchlistImportsView), name="watchlist-imports"),
    path("imports/<int:pk>", _api(watchlists.ImportDetailView), name="import-detail"),
    # subjects and their reference images
    path("subjects/", _api(watchlists.SubjectListView), name="subject-list"),
    path("subjects/<int:pk>/", _api(watchlists.SubjectDetailView), name="subject-detail"),
    path("subjects/<int:pk>/images", _api(watchlists.SubjectImagesView), name="subject-images"),
    path("reference-images/<int:pk>/", _api(watchlists.ReferenceImageDetailView), name="reference-image-detail"),
    path("reference-images/<int:pk>/file", _api(watchlists.ReferenceImageFileView), name="reference-image-file"),
    path("reference-images/<int:pk>/confirm-duplicate", _api(watchlists.ReferenceImageConfirmDuplicateView),
         name="reference-image-confirm-duplicate"),
    path("subject-access/", _api(oversight.SubjectAccessSearchView), name="subject-access-search"),
    path("subject-access/<int:subject_id>/report", _api(oversight.SubjectAccessReportView),
         name="subject-access-report"),
    # cameras and deployments
    path("cameras/", _api(deployments.CameraListView), name="camera-list"),
    path("cameras/<int:pk>/", _api(deployments.CameraDetailView), name="camera-detail"),
    path("cameras/<int:pk>/source/", _api(deployments.CameraSourceView), name="camera-source"),
    path("deployments/", _api(deployments.DeploymentListView), name="deployment-list"),
    path("deployments/authorisation-queue/", _api(deployments.DeploymentAuthorisationQueueView),
         name="deployment-authorisation-queue"),
    path("deployments/<int:pk>/", _api(deployments.DeploymentDetailView), name="deployment-detail"),
    path("deployments/<int:pk>/submit", _api(deployments.DeploymentSubmitView), name="deployment-submit"),
    path("deployments/<int:pk>/authorise", _api(deployments.DeploymentAuthoriseView), name="deployment-authorise"),
    path("deployments/<int:pk>/reject", _api(deployments.DeploymentRejectView), name="deployment-reject"),
    path("deployments/<int:pk>/stop", _api(deployments.DeploymentStopView), name="deployment-stop"),
    path("deployments/<int:pk>/cancel", _api(deployments.DeploymentCancelView), name="deployment-cancel"),
    path("deployments/<int:pk>/officers", _api(deployments.DeploymentOfficersView), name="deployment-officers"),
    path("deployments/<int:pk>/authorisation-problems", _api(deployments.DeploymentAuthorisationProblemsView),
         name="deployment-authorisation-problems"),
    path("deployments/<int:pk>/post-record", _api(deployments.DeploymentPostRecordView),
         name="deployment-post-record"),
    path("deployments/<int:pk>/documents/", _api(deployments.DeploymentDocumentsView), name="deployment-documents"),
    path("deployments/<int:pk>/documents/<int:document_id>/file", _api(deployments.DeploymentDocumentFileView),
         name="deployment-document-file"),
    path("deployments/<int:pk>/urgent-start", _api(deployments.DeploymentUrgentStartView),
         name="deployment-urgent-start"),
    path("deployments/<int:pk>/urgent-authorise", _api(deployments.DeploymentUrgentAuthoriseView),
         name="deployment-urgent-authorise"),
    path("deployments/<int:pk>/urgent-refuse", _api(deployments.DeploymentUrgentRefuseView),
         name="deployment-urgent-refuse"),
    path("deployments/<int:pk>/urgent-notification", _api(deployments.DeploymentUrgentNotificationView),
         name="deployment-urgent-notification"),
    path("deployments/<int:pk>/test-walks", _api(alerts.DeploymentTestWalksView), name="deployment-test-walks"),
    # alerts
    path("deployments/<int:pk>/alerts/", _api(alerts.DeploymentAlertsView), name="deployment-alerts"),
    path("alerts/<int:pk>/", _api(alerts.AlertDetailView), name="alert-detail"),
    path("alerts/<int:pk>/adjudication/", _api(alerts.AlertAdjudicationView), name="alert-adjudication"),
    path("alerts/<int:pk>/engagement/", _api(alerts.AlertEngagementView), name="alert-engagement"),
    path("alerts/<int:pk>/adjudications/<int:adjudication_pk>/amendment/", _api(alerts.AlertAmendmentView),
         name="alert-amendment"),
    path("alerts/<int:pk>/case-link/", _api(alerts.AlertCaseLinkView), name="alert-case-link"),
    path("alerts/<int:pk>/images/probe", _api(alerts.AlertProbeImageView), name="alert-image-probe"),
    path("alerts/<int:pk>/images/reference", _api(alerts.AlertReferenceImageView), name="alert-image-reference"),
    # statistics and transparency reports
    path("reports/deployments/<int:deployment_id>/", _api(reports.DeploymentReportView), name="report-deployment"),
    path("reports/<int:year>/", _api(reports.YearReportView), name="report-year"),
    path("reports/<int:year>/<int:month>/", _api(reports.MonthReportView), name="report-month"),
    # audit log (oversight)
    path("audit/events/", _api(audit.AuditEventListView), name="audit-event-list"),
    path("audit/events/<int:sequence>/", _api(audit.AuditEventDetailView), name="audit-event-detail"),
    path("audit/exports", _api(audit.AuditExportView), name="audit-export"),
    # user accounts (manage_users)
    path("users/", _api(accounts.UserListView), name="user-list"),
    path("users/<int:pk>/", _api(accounts.UserDetailView), name="user-detail"),
    path("users/<int:pk>/roles", _api(accounts.UserRolesView), name="user-roles"),
    path("users/<int:pk>/deactivate", _api(accounts.UserDeactivateView), name="user-deactivate"),
    path("users/<int:pk>/reactivate", _api(accounts.UserReactivateView), name="user-reactivate"),
    path("users/<int:pk>/unlock", _api(accounts.UserUnlockView), name="user-unlock"),
    path("users/<int:pk>/reset-mfa", _api(accounts.UserMfaResetView), name="user-mfa-reset"),
    # OpenAPI
    path("schema/", _api(SpectacularAPIView, permission_classes=[IsAuthenticated]), name="schema"),
    # The split view serves Swagger UI's init script as a file (/api/docs/?script=): no inline script for the CSP.
    path("docs/", _page(SpectacularSwaggerSplitView, url_name="api:schema", template_name="api/swagger_ui.html",
                        permission_classes=[IsAuthenticated]), name="docs"),
]
