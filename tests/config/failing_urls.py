"""A URL that fails, for the 500 page test: the portal's URLs plus one view that raises."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from config.urls import handler403
from config.urls import urlpatterns as portal_urls

__all__ = ["handler403", "urlpatterns"]


@login_not_required
def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), *portal_urls]
