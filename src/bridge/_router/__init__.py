"""Route requests by path prefix to WSGI and ASGI apps side by side, one route at a time.

=================  ==========================================================================
module             what it holds
=================  ==========================================================================
``router``         :class:`~bridge.Router` (the ASGI side) and ``RouterWsgi`` (``router.wsgi``)
``table``          the routing table: prefix rules, app detection, segment-wise matching
``replay``         the 404 hold-back and the replay of a request to ``fallback``
``lifespan``       one lifespan from the server, fanned out to each distinct ASGI app
=================  ==========================================================================

:class:`Router` is the gradual-migration tool: an ASGI app (and, as ``router.wsgi``, a WSGI app)
that sends each request to the app mounted at the longest matching path prefix, whichever
interface that app speaks. A legacy Flask or Django app keeps serving everything it serves today
(``fallback=legacy``) while new ASGI routes take over prefixes one by one (the strangler fig)::

    router = bridge.Router({"/api/v2": fastapi_app, "/static": static_wsgi_app}, fallback=flask_app)
    application = router.wsgi
    # uvicorn mysite:router          (ASGI server)
    # gunicorn mysite:application    (WSGI server; Gunicorn imports names, not attributes)

Theory of operation
===================
* **Detection.** Each app is classified once, in ``__init__``: an ASGI 3 app is an async callable
  taking ``(scope, receive, send)``, a WSGI app a sync callable taking ``(environ,
  start_response)``. :class:`AsgiApp` and :class:`WsgiApp` override detection; anything else is
  a ``TypeError`` naming the prefix and the object. A nested :class:`Router` (or its ``.wsgi``)
  is native on both sides.
* **Matching** is by whole path segments, longest prefix first, on the path relative to the
  incoming ``root_path`` (``SCRIPT_NAME``): ``/api`` matches ``/api`` and ``/api/x``, never
  ``/apiary``; ``/`` matches everything. ASGI matches the decoded ``path``; WSGI matches
  ``PATH_INFO`` (the same bytes, as latin-1).
* **Mounting.** The app at ``/api`` sees ``root_path`` grown by ``/api`` with ``path`` unchanged
  (ASGI: ``path`` includes ``root_path``), or ``SCRIPT_NAME`` grown and ``PATH_INFO`` shrunk
  (WSGI; ``PATH_INFO`` is ``""`` for ``/api`` itself, as in Werkzeug).
* **Interfaces.** Each app is called natively on its own side; only across sides is it wrapped,
  by one shared :class:`~bridge.WsgiToAsgi` (ASGI router -> WSGI apps) or one shared
  :class:`~bridge.AsgiToWsgi` (``router.wsgi`` -> ASGI apps), both built in ``__init__`` (where
  they start nothing). The shared wrapper finds its target under the private ``scope``/``environ``
  key ``bridge.router.app``. An app the user wrapped already is unwrapped on the other side.
* **Fallback** (see :mod:`.replay`): a 404 from the matched app is held back and the request
  replayed to ``fallback``, request body included up to ``replay_body_limit`` bytes.
* **Lifespan** (see :mod:`.lifespan`): fanned out once to each distinct ASGI app.
* **Async code in WSGI views.** ``router.wsgi`` points asgiref's ``async_to_sync`` in the WSGI
  thread at the private loop (where that lifespan ran) before it calls a WSGI app, so a Flask
  ``async def`` view or Django's ``async_to_sync`` shares the ASGI apps' resources, as
  ``bridge.await_`` does (see :mod:`bridge._runners.asgiref_loop`).
* **WebSocket** scopes go to ASGI apps only; a WSGI target closes before accepting (403).
"""

from .router import Router, RouterWsgi

__all__ = ["Router", "RouterWsgi"]
