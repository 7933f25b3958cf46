"""Files the portal hands to a person to open elsewhere (CSV downloads, protected documents)."""

from __future__ import annotations

from django.http import HttpResponse

from core.images import no_store

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


def protected_download(data: bytes, *, filename: str, content_type: str) -> HttpResponse:
    """A protected document (a PDF the authorisation rests on) as an attachment, never opened in the portal's
    origin: not cached by browsers or proxies, its type not sniffed. ``filename`` is the server's own (ASCII,
    no quotes), never a name a user uploaded."""
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return no_store(response)
