"""A user's own routes, served beside the API (http.app)."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/custom/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
