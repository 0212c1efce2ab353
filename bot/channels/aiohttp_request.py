"""python-telegram-bot's HTTP transport over one shared aiohttp session (DESIGN.md decision 2).

PTB's default HTTPX transport was about eight times slower in our measurements; PTB keeps doing everything else
(building requests, parsing answers, mapping errors), this class only moves the bytes.
"""

from __future__ import annotations

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    def __init__(
        self, *, connections: int = 256, read_timeout: float = 10.0, media_timeout: float = 120.0
    ) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._media_timeout = media_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._connections, keepalive_timeout=60)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None:
            # Shut down (or never started): refuse rather than open a session nobody will close.
            raise NetworkError("the Telegram transport is closed")
        files = request_data.multipart_data if request_data else None
        timeout = self._timeout(read_timeout, media=bool(files))
        kwargs: dict[str, object] = {}
        if files:
            form = aiohttp.FormData(quote_fields=False)  # Telegram shows file names as sent
            for name, value in request_data.json_parameters.items():  # type: ignore[union-attr]
                form.add_field(name, value)
            for part, (filename, content, mime) in files.items():
                form.add_field(part, content, filename=filename, content_type=mime)
            kwargs["data"] = form
        elif request_data is not None:
            kwargs["data"] = request_data.json_payload
            kwargs["headers"] = {"Content-Type": "application/json"}
        try:
            async with self._session.request(method, url, timeout=timeout, **kwargs) as response:  # type: ignore[arg-type]
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp: {exc!r}") from exc

    def _timeout(self, read_timeout: object, *, media: bool) -> aiohttp.ClientTimeout:
        read = read_timeout if isinstance(read_timeout, int | float) else None
        if read is None and read_timeout is not None:
            read = self._media_timeout if media else self._read_timeout
        # Long polling asks for read_timeout = poll timeout + extra; honour it as the total.
        return aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=read)
