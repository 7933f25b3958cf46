from django.urls import include, path

from config.favicon import favicon
from config.home import home
from monitoring import health, metrics_export
from notifications.views import service_worker

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("watchlists/", include("watchlists.urls")),
    path("watchlists/subject-access/", include("oversight.urls")),  # oversight app, at its old address
    path("deployments/", include("deployments.urls")),
    path("alerts/", include("alerts.urls")),
    path("notifications/", include("notifications.urls")),
    path("sw.js", service_worker, name="service_worker"),  # at the root: a worker controls only pages under it
    path("audit/", include("audit.urls")),
    path("reports/", include("reports.urls")),
    path("api/", include("config.api_urls")),
    path("favicon.ico", favicon, name="favicon"),
    path("", include("transparency.urls")),  # /public/ (no sign-in) and the notice form under /deployments/
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics_export.metrics, name="metrics"),
]

handler403 = "core.views_errors.permission_denied"
