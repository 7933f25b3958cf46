from django.urls import path

from deployments import views

app_name = "deployments"

urlpatterns = [
    path("", views.deployment_index, name="list"),
    path("new/", views.deployment_create, name="create"),
    path("authorisations/", views.authorisation_queue, name="authorisation_queue"),
    path("cameras/", views.camera_index, name="cameras"),
    path("cameras/new/", views.camera_create, name="camera_create"),
    path("<int:pk>/", views.deployment_detail, name="detail"),
    path("<int:pk>/edit/", views.deployment_edit, name="edit"),
    path("<int:pk>/submit/", views.deployment_submit, name="submit"),
    path("<int:pk>/authorise/", views.deployment_authorise, name="authorise"),
    path("<int:pk>/reject/", views.deployment_reject, name="reject"),
    path("<int:pk>/stop/", views.deployment_stop, name="stop"),
    path("<int:pk>/cancel/", views.deployment_cancel, name="cancel"),
    path("<int:pk>/officers/", views.deployment_officers, name="officers"),
    path("<int:pk>/post-record/", views.deployment_post_record, name="post_record"),
    path("<int:pk>/documents/", views.deployment_document_upload, name="document_upload"),
    path("<int:pk>/documents/<int:document_id>/", views.deployment_document_download, name="document_download"),
    path("<int:pk>/urgent-start/", views.deployment_urgent_start, name="urgent_start"),
    path("<int:pk>/urgent-authorise/", views.deployment_urgent_authorise, name="urgent_authorise"),
    path("<int:pk>/urgent-refuse/", views.deployment_urgent_refuse, name="urgent_refuse"),
    path("<int:pk>/urgent-notification/", views.deployment_urgent_notification, name="urgent_notification"),
]
