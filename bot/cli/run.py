"""`chibo run` and `chibo sandbox`: the bot for real (refusing settings that would break production), or the demo."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from typing import TYPE_CHECKING, Annotated

import typer

from bot.core import logs
from bot.core.config import Settings, public_port, refusals, wants_production
from messages import cli as msg

if TYPE_CHECKING:
    pass

from bot.cli.common import app, console, plain, settings_or_exit

# -- run -------------------------------------------------------------------------------------------------------


@app.command()
def run() -> None:
    """Run the bot: Zalo and/or Telegram, polling or webhook (CHIBO_PUBLIC_URL); the sandbox if nothing is set."""
    settings = settings_or_exit()
    if not wants_production(settings):
        plain(msg.SANDBOX_INSTEAD)
        _run_sandbox("127.0.0.1", 8000)
        return
    # A server configured for production but missing or misconfiguring something must fail loudly, now.
    refused = refusals(settings)
    if refused:
        plain(msg.REFUSED)
        port = public_port(settings.public_url)
        for refusal in refused:
            text = msg.REFUSALS[refusal].format(
                url=settings.public_url, port=port, timezone=settings.timezone
            )
            plain("\n" + text)
        raise typer.Exit(2)
    logs.configure(settings.log_format)
    asyncio.run(_serve(settings))


def _mode(settings: Settings) -> str:
    """Which platforms the bot serves and how, e.g. "Zalo: webhook tại https://…"."""
    names = [
        name
        for name, token in (("Zalo", settings.zalo_token), ("Telegram", settings.telegram_token))
        if token
    ]
    if settings.public_url:
        return ", ".join(msg.MODE_WEBHOOK.format(channel=n, url=settings.public_url) for n in names)
    return ", ".join(msg.MODE_POLLING.format(channel=n) for n in names)


async def _serve(settings: Settings) -> None:
    from bot.runtime import Runtime, settle_memory

    runtime = Runtime.build(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runtime.start()
    except (
        BaseException
    ):  # e.g. no network: release what started (connections, the web port) before saying so
        with contextlib.suppress(Exception):
            await runtime.stop()
        raise
    settle_memory()
    console.print(msg.RUNNING.format(mode=_mode(settings)), markup=False)
    try:
        await stop.wait()
    finally:
        await runtime.stop()
        console.print(msg.STOPPED, markup=False)


# -- sandbox ---------------------------------------------------------------------------------------------------


@app.command("sandbox")
def sandbox(
    port: Annotated[int, typer.Option(help="Port of the sandbox's web page")] = 8000,
    host: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0 to open it to the network)")
    ] = "127.0.0.1",
) -> None:
    """Try Chibo without a token: the bot against fake Telegram and Zalo, a demo province, a web chat page."""
    _run_sandbox(host, port)


def _run_sandbox(host: str, port: int) -> None:
    from bot.sandbox.app import DEFAULT_DIR, serve

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    plain(msg.SANDBOX_STARTING)

    def ready(url: str) -> None:
        plain(msg.SANDBOX_READY.format(url=url, data=DEFAULT_DIR))

    asyncio.run(serve(host, port, ready))
    plain(msg.SANDBOX_STOPPED)
