from django.urls import include, path

from accounts.views import home
from monitoring import health, metrics_export

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("watchlists/", include("watchlists.urls")),
    path("watchlists/subject-access/", include("oversight.urls")),  # oversight app, at its old address
    path("deployments/", include("deployments.urls")),
    path("alerts/", include("alerts.urls")),
    path("audit/", include("audit.urls")),
    path("reports/", include("reports.urls")),
    path("api/", include("config.api_urls")),
    path("", include("transparency.urls")),  # /public/ (no sign-in) and the notice form under /deployments/
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics_export.metrics, name="metrics"),
]

handler403 = "core.views_errors.permission_denied"
