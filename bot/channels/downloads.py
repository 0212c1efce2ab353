"""Reading a user's file from a platform's download link, up to a size limit."""

from __future__ import annotations

import aiohttp


async def read_at_most(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body, or its first `limit + 1` bytes when it is longer (the caller refuses it). A single
    `content.read(n)` returns only what has arrived so far, which cuts a file of more than a few hundred KB."""
    data = bytearray()
    async for chunk in response.content.iter_chunked(64 * 1024):
        data += chunk
        if len(data) > limit:
            return bytes(data[: limit + 1])
    return bytes(data)
