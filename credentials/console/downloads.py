"""The one response a new password or secret leaves the server in: a CSV download, or, for a
browser without JavaScript, a page that carries the same file in a link (a data: URL)."""

from __future__ import annotations

import base64
from dataclasses import dataclass

from django.http import HttpResponse


def csv_response(text: str, filename: str) -> HttpResponse:
    """The file itself, as an attachment no cache keeps."""
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@dataclass(frozen=True)
class CsvLink:
    """The file inside the page that answers a form posted without JavaScript: the page's
    message region shows `text` and a link that saves it (messages.html). Never stored: it
    exists in that one response only (the view marks it no-store)."""

    text: str
    filename: str
    csv: str

    @property
    def href(self) -> str:
        encoded = base64.b64encode(self.csv.encode("utf-8")).decode("ascii")
        return f"data:text/csv;charset=utf-8;base64,{encoded}"


def no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    return response
