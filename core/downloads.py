"""Files the portal hands to a person to open elsewhere (CSV downloads)."""

from __future__ import annotations

from django.http import HttpResponse

# A cell starting with one of these runs as a formula when the CSV is opened in a spreadsheet.
_SPREADSHEET_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: str) -> str:
    """Text a user typed, made inert for spreadsheets (a leading apostrophe)."""
    return "'" + value if value.startswith(_SPREADSHEET_FORMULA) else value


def csv_download(content: str, *, filename: str, private: bool = False) -> HttpResponse:
    """A CSV attachment; `private` ones (personal data) must not be kept by browsers or proxies."""
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    if private:
        response["Cache-Control"] = "no-store, private"
    return response
