# catalog_conf.py: serve it with  gunicorn -c catalog_conf.py
wsgi_app = "catalog:application"


def post_worker_init(worker):
    # Run the ASGI apps' lifespan startup (which opens the shared client) before the first
    # request, whichever app that request is for.
    from catalog import application

    application.startup()
