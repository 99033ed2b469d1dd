"""A stand-in for your Flask project: ``create_app()`` returns a small Flask app."""

from flask import Flask


def create_app() -> Flask:
    app = Flask(__name__)

    @app.get("/")
    def home() -> str:
        return "Hello from Flask\n"

    return app
