"""Values the edge-case test apps (``wsgi_edge_apps``, ``asgi_edge_apps``) and their tests share.

Pure constants: the tests import this module, never the apps (which build adapters and set up
logging at import).
"""

from __future__ import annotations

#: The request body limit of ``wsgi_edge_apps:app`` (``max_request_body_size``).
BODY_LIMIT = 1024 * 1024
#: What ``wsgi_edge_apps:app`` raises at ``/raise`` (followed by the query string).
WSGI_FAILURE = "the app failed on purpose"
#: The content of the temporary file ``wsgi_edge_apps:files`` sends with Flask's ``send_file``.
WSGI_REPORT = b"quarterly report\n" * 4096
#: The content of the file ``asgi_edge_apps:files`` sends and deletes in a background task.
ASGI_REPORT = b"monthly report\n" * 16384
#: What ``asgi_edge_apps:failing`` raises.
ASGI_FAILURE = "the ASGI app failed on purpose"
