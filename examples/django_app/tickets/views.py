"""The Django pages: home, the ticket list, the new-ticket form, one ticket, and a legacy API view.

Plain synchronous Django, written as for any WSGI server; nothing here knows about bridge.
"""

from __future__ import annotations

import importlib.metadata
import sys
from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from tickets.forms import TicketForm
from tickets.models import Ticket

ASGI_SERVERS = ("uvicorn", "hypercorn", "granian", "daphne")


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Say how this request reached Django, and link every page."""
    return render(request, "home.html")


@require_GET
def ticket_list(request: HttpRequest) -> HttpResponse:
    return render(request, "tickets/list.html", {"tickets": Ticket.objects.all()[:50]})


def new_ticket(request: HttpRequest) -> HttpResponse:
    """Show the form (GET); file the ticket and redirect to it (POST, CSRF-checked)."""
    form = TicketForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ticket = form.save()
        messages.success(request, f"Ticket #{ticket.pk} filed.")
        return redirect(ticket)
    return render(request, "tickets/form.html", {"form": form})


@require_GET
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ticket = get_object_or_404(Ticket, pk=pk)
    return render(request, "tickets/detail.html", {"ticket": ticket})


@require_GET
def legacy_stats(request: HttpRequest) -> JsonResponse:
    """Ticket counts, from the old API that the async app has not taken over yet."""
    counts = Ticket.objects.values("is_open").annotate(n=Count("id"))
    by_state = {("open" if row["is_open"] else "closed"): row["n"] for row in counts}
    return JsonResponse(
        {
            "served_by": "django",
            "open": by_state.get("open", 0),
            "closed": by_state.get("closed", 0),
            "tickets_page": reverse("tickets:list"),
            "script_name": request.META.get("SCRIPT_NAME", ""),
        }
    )


def serving(request: HttpRequest) -> dict[str, Any]:
    """Context processor (see settings): every page names the server and the way to Django."""
    return {"served_by": served_by(request)}


def served_by(request: HttpRequest) -> str:
    """Name the server, and whether Django runs natively or through ``bridge.WsgiToAsgi``."""
    if "asgi.scope" in request.META:  # WsgiToAsgi puts the ASGI scope in the environ
        return f"{asgi_server()}, through bridge.WsgiToAsgi"
    return f"{request.META.get('SERVER_SOFTWARE', 'a WSGI server')}, natively (WSGI)"


def asgi_server() -> str:
    """Name the ASGI server that runs this process (e.g. ``uvicorn/0.34.0``): ASGI scopes carry
    no ``SERVER_SOFTWARE``, but the server's package is imported."""
    for name in ASGI_SERVERS:
        if name in sys.modules:
            return f"{name}/{importlib.metadata.version(name)}"
    return "an ASGI server"
