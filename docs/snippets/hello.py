# hello.py: serve it with  uvicorn hello:app
from flask import Flask, request

from bridge import WsgiToAsgi

flask_app = Flask(__name__)


@flask_app.put("/upload")
def upload():
    size = 0
    while chunk := request.stream.read(64 * 1024):  # read as it arrives, bounded memory
        size += len(chunk)
    return {"received": size}


app = WsgiToAsgi(flask_app, max_request_body_size=100 * 1024 * 1024)
