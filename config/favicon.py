"""/favicon.ico: browsers ask for it at the root whatever the page links, so it is answered, not a 404."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse
from django.views.decorators.http import require_GET

from accounts.mfa import mfa_exempt

FAVICON = settings.BASE_DIR / "static" / "favicon.ico"


@login_not_required
@mfa_exempt
@require_GET
def favicon(request):
    response = FileResponse(FAVICON.open("rb"), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response
