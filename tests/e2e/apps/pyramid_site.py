"""A Pyramid app with no exception view, for the real-application matrix (``wsgi_frameworks``).

Pyramid answers an ``HTTPException`` with its default exception view, but any other exception a
view raises escapes the WSGI app, as in every Pyramid project that registers no exception view of
its own (``/boom``): the server (here bridge) must answer 500 and keep serving.
"""

from __future__ import annotations

from typing import Any

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPFound
from pyramid.request import Request
from pyramid.response import Response
from pyramid.session import SignedCookieSessionFactory


def hello(request: Request) -> Response:
    return Response("hello from pyramid", content_type="text/plain")


def item(request: Request) -> dict[str, Any]:
    """Echo the route match, the query and the URL Pyramid builds for this route."""
    return {
        "name": request.matchdict["name"],
        "q": request.params.get("q"),
        "script_name": request.script_name,
        "url": request.route_url("item", name=request.matchdict["name"]),
    }


def visit(request: Request) -> dict[str, int]:
    """Count the visits of this client in its signed-cookie session."""
    request.session["visits"] = request.session.get("visits", 0) + 1
    return {"visits": request.session["visits"]}


def login(request: Request) -> HTTPFound:
    """Take a form POST and redirect (302) to the item page."""
    return HTTPFound(location=request.route_url("item", name=request.POST["user"]))


def boom(request: Request) -> Response:
    raise RuntimeError(f"pyramid view failed {request.params.get('token')}")


def make_app() -> Any:
    """Return the Pyramid WSGI app: four routes, a session factory, no exception view."""
    with Configurator() as config:
        config.set_session_factory(SignedCookieSessionFactory("e2e-only-secret"))
        config.add_route("hello", "/")
        config.add_route("item", "/items/{name}")
        config.add_route("visit", "/visit")
        config.add_route("login", "/login")
        config.add_route("boom", "/boom")
        config.add_view(hello, route_name="hello")
        config.add_view(item, route_name="item", renderer="json")
        config.add_view(visit, route_name="visit", renderer="json")
        config.add_view(login, route_name="login", request_method="POST")
        config.add_view(boom, route_name="boom")
        return config.make_wsgi_app()


app = make_app()
