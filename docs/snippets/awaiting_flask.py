# awaiting_flask.py: Flask whose async def views run through bridge.await_, not asgiref
from flask import Flask

import bridge


class AwaitingFlask(Flask):
    def async_to_sync(self, func):
        # Flask calls this for every async def view; bridge.await_ runs the coroutine on the
        # loop of the current request (any runner, asyncio or trio) or on the private loop.
        return lambda *args, **kwargs: bridge.await_(func(*args, **kwargs))
