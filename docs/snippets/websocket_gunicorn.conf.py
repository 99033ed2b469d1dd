# gunicorn.conf.py: close the AsgiToWsgi app's WebSockets with 1001 when a worker must stop
import signal


def post_worker_init(worker):
    """On SIGTERM, close the app (its open WebSockets get 1001), then stop as usual."""
    stop = signal.getsignal(signal.SIGTERM)

    def close_then_stop(signum, frame):
        worker.wsgi.close()  # worker.wsgi is the AsgiToWsgi application
        if callable(stop):
            stop(signum, frame)

    signal.signal(signal.SIGTERM, close_then_stop)
