"""A stand-in for the new ASGI code that takes over ``/api/v2``."""

from fastapi import FastAPI

fastapi_app = FastAPI()


@fastapi_app.get("/items")
async def items() -> list[str]:
    return ["bridge"]
