# mysite.py: serve it with  uvicorn mysite:router  or  gunicorn mysite:application
from api_v2 import fastapi_app  # ASGI: the new code
from legacy import flask_app  # WSGI: serves every URL today

from bridge import Router

router = Router({"/api/v2": fastapi_app}, fallback=flask_app)
application = router.wsgi  # the same table as a WSGI app
