# myservice/wsgi.py: serve it with  gunicorn myservice.wsgi:application
from bridge import AsgiToWsgi
from myservice.app import app  # a FastAPI app

application = AsgiToWsgi(app)
