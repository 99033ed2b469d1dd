"""A stand-in for your FastAPI app."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def home() -> dict[str, str]:
    return {"hello": "from FastAPI"}
