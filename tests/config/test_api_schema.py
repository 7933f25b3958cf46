"""The OpenAPI schema generates cleanly, is served to signed-in users, and the docs page uses no CDN."""

import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient


def test_schema_generates_valid_with_no_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    paths = schema["paths"]
    assert {"/api/watchlists/", "/api/subjects/{id}/images", "/api/reference-images/{id}/file",
            "/api/deployments/{id}/authorise", "/api/imports/{id}", "/api/deployments/{id}/alerts/",
            "/api/alerts/{id}/", "/api/alerts/{id}/adjudication/", "/api/alerts/{id}/case-link/",
            "/api/alerts/{id}/images/probe", "/api/alerts/{id}/images/reference"} <= set(paths)
    # Lists are documented as pages; the face image as bytes; no schema exposes an embedding.
    list_200 = paths["/api/subjects/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert list_200 == {"$ref": "#/components/schemas/PaginatedSubjectList"}
    for image in ("/api/reference-images/{id}/file", "/api/alerts/{id}/images/probe",
                  "/api/alerts/{id}/images/reference"):
        assert "image/*" in paths[image]["get"]["responses"]["200"]["content"]
    alerts_200 = paths["/api/deployments/{id}/alerts/"]["get"]["responses"]["200"]["content"]["application/json"]
    assert alerts_200["schema"] == {"$ref": "#/components/schemas/PaginatedAlertList"}
    properties = {name for component in schema["components"]["schemas"].values()
                  for name in component.get("properties", {})}
    assert "embedding" not in properties and "file_name" not in properties
    upload = paths["/api/subjects/{id}/images"]["post"]["requestBody"]["content"]
    assert list(upload) == ["multipart/form-data"]
    # A subject is created from JSON, or from a form with its photo (and, either way, onto a watchlist).
    create = paths["/api/subjects/"]["post"]["requestBody"]["content"]
    assert create == {"application/json": {"schema": {"$ref": "#/components/schemas/SubjectCreate"}},
                      "multipart/form-data": {"schema": {"$ref": "#/components/schemas/SubjectCreateWithImage"}}}
    with_image = schema["components"]["schemas"]["SubjectCreateWithImage"]["properties"]
    assert {"watchlist", "watchlist_version", "image", "image_source"} <= set(with_image)
    assert "image" not in schema["components"]["schemas"]["SubjectCreate"]["properties"]


@pytest.fixture
def signed_in(db, django_user_model):
    user = django_user_model.objects.create_user(username="reader", password=None)
    client = APIClient()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_schema_and_docs_need_a_signed_in_user():
    client = APIClient()
    assert client.get("/api/schema/").status_code == 403  # an API call: 403, no redirect
    response = client.get("/api/docs/")  # a page for people: to the login page, like the rest of the portal
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_schema_is_served(signed_in):
    response = signed_in.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "LFR Portal API"


def test_docs_page_loads_swagger_ui_from_local_static_files(signed_in):
    response = signed_in.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    external = [url for url in re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html)
                if url.startswith(("http:", "https:", "//"))]
    assert external == []
    assert "cdn" not in html.lower()
    bundle = signed_in.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status_code == 200
