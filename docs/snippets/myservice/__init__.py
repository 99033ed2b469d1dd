"""A stand-in for your ASGI service."""
