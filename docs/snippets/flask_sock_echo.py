# flask_sock_echo.py: serve it with  uvicorn flask_sock_echo:app
from flask import Flask
from flask_sock import Sock

from bridge import WsgiToAsgi

flask_app = Flask(__name__)
sock = Sock(flask_app)


@sock.route("/echo")
def echo(ws):
    while True:
        ws.send(ws.receive())


app = WsgiToAsgi(flask_app)
