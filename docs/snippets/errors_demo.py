# errors_demo.py: serve it with  uvicorn errors_demo:app
import logging

import bridge

log = logging.getLogger(__name__)


def wsgi_app(environ, start_response):
    try:
        body = environ["wsgi.input"].read()
    except bridge.ClientDisconnected:  # also an OSError
        log.info("the client left mid-upload")
        raise  # nothing more can be sent; bridge does not pass it on to the server
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"%d bytes\n" % len(body)]


# A body over 1 KiB is answered 413 (RequestTooLarge.status_code) before the app is called.
app = bridge.WsgiToAsgi(wsgi_app, max_request_body_size=1024)
