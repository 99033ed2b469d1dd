# myproject/asgi_greenlet.py: serve it with  uvicorn myproject.asgi_greenlet:app
from bridge import WsgiToAsgi
from myproject import create_app

app = WsgiToAsgi(create_app(), runner="greenlet")
