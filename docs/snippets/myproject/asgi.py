# myproject/asgi.py: serve it with  uvicorn myproject.asgi:app
from bridge import WsgiToAsgi
from myproject import create_app

app = WsgiToAsgi(create_app())
