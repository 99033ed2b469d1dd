# websocket_echo.py: serve it with  gunicorn -k gthread --threads 32 websocket_echo:application
from fastapi import FastAPI, WebSocket

from bridge import AsgiToWsgi

app = FastAPI()


@app.websocket("/echo")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    async for text in websocket.iter_text():
        await websocket.send_text(text)


application = AsgiToWsgi(app)
