from django.urls import path

from watchlists import views

app_name = "watchlists"

urlpatterns = [
    path("", views.watchlist_index, name="list"),
    path("approvals/", views.approval_queue, name="approval_queue"),
    path("<int:pk>/", views.watchlist_detail, name="detail"),
    path("<int:pk>/subjects/add/", views.watchlist_subjects_add, name="subjects_add"),
    path("<int:pk>/subjects/<int:subject_pk>/remove/", views.watchlist_subject_remove, name="subject_remove"),
    path("<int:pk>/submit/", views.watchlist_submit, name="submit"),
    path("<int:pk>/approve/", views.watchlist_approve, name="approve"),
    path("<int:pk>/return/", views.watchlist_return, name="return"),
    path("<int:pk>/review/", views.watchlist_review, name="review"),
    path("<int:pk>/import/", views.import_start, name="import"),
    path("<int:pk>/imports/<int:import_pk>/", views.import_status, name="import_status"),
    path("<int:pk>/imports/<int:import_pk>/status.json", views.import_status_json, name="import_status_json"),
    path("import-template.csv", views.import_template, name="import_template"),
    path("subjects/", views.subject_index, name="subjects"),
    path("subjects/new/", views.subject_create, name="subject_create"),
    path("subjects/review-due/", views.review_due, name="review_due"),
    path("subjects/<int:pk>/", views.subject_detail, name="subject_detail"),
    path("subjects/<int:pk>/edit/", views.subject_edit, name="subject_edit"),
    path("subjects/<int:pk>/images/add/", views.image_add, name="image_add"),
    path("images/<int:pk>/", views.image_file, name="image"),
    path("images/<int:pk>/outlined/", views.image_file_outlined, name="image_outlined"),
    path("images/<int:pk>/confirm-duplicate/", views.image_confirm_duplicate, name="image_confirm_duplicate"),
    path("images/<int:pk>/delete/", views.image_delete, name="image_delete"),
]
