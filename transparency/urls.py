from django.urls import path

from transparency import feeds, views

app_name = "transparency"

urlpatterns = [
    # public: no sign-in
    path("public/", views.public_index, name="index"),
    path("public/feed.atom", feeds.deployments_atom, name="atom_feed"),
    path("public/feed.json", feeds.deployments_json, name="json_feed"),
    path("public/<int:pk>/", views.public_deployment, name="deployment"),
    path("public/<int:pk>/notice/", views.public_signage, name="signage"),
    # the portal
    path("deployments/<int:pk>/public-notice/", views.public_notice_edit, name="notice_edit"),
]
