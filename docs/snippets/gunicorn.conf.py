# gunicorn.conf.py: serve it with  gunicorn -c gunicorn.conf.py
wsgi_app = "myservice.wsgi:application"
bind = "127.0.0.1:8001"
worker_class = "sync"  # or "gthread", with threads = 8
workers = 4
preload_app = True  # safe: each worker starts its own event loop and lifespan
timeout = 75  # above the longest response: a sync worker is busy for a whole SSE stream
graceful_timeout = 30  # above 2 x shutdown_timeout: requests drain, then lifespan shutdown


def post_worker_init(worker):
    # Optional: run lifespan startup at boot, so a failing startup shows at once.
    from myservice.wsgi import application

    application.startup()
