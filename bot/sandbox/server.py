"""The sandbox's web server: the chat page (static files) and the JSON API the page drives.

API (all JSON; refusals answer 400/404 with `{"ok": false, "error": "<Vietnamese text>"}`):
- `GET  /api/state`: sandbox time, the people one can play (`first`: the one the page opens with), the samples.
- `GET  /api/chat/{key}?since=V`: that person's chat; waits up to 20 s for a change while its version is still V.
- `POST /api/chat/{key}/text` `{"text"}`, `/press` `{"id", "data"}`, `/contact` (Telegram's contact button, the
  OA's phone form), `/sample` `{"sample"}`, `/file` (multipart: `file`, optional `as_photo=1`): act as that
  person; answers with the chat.
- `POST /api/time` `{"step": "hour"|"day"|"week"|"morning"|"summary"}`: time travel.
- `GET  /api/files/{file_id}`: a file the bot sent on Telegram; `GET /api/oa-files/{token}`: one the bot uploaded
  to the Zalo OA; `GET /uploads/{token}`: a file a person sent;
  `GET  /f/...`: the bot's signed download links (Zalo), passed through to the bot's own web server.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import aiohttp
from aiohttp import web

from bot.sandbox import demo
from bot.sandbox.chat import Persona, Refused
from messages import cli as msg
from messages.registration import ROLE_NAMES

if TYPE_CHECKING:
    from bot.sandbox.app import Sandbox

STATIC_DIR = Path(__file__).resolve().parent / "static"
LONG_POLL = 20.0
MAX_UPLOAD_MB = 20
_SANDBOX: web.AppKey[Sandbox] = web.AppKey("sandbox")
_PASSED_HEADERS = frozenset({"content-type", "content-disposition"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def build_app(sandbox: Sandbox) -> web.Application:
    app = web.Application(client_max_size=(MAX_UPLOAD_MB + 1) * 1024 * 1024)
    app[_SANDBOX] = sandbox
    app.router.add_get("/", _index)
    app.router.add_static("/static/", STATIC_DIR)
    app.router.add_get("/api/state", _state)
    app.router.add_get("/api/chat/{key}", _chat)
    app.router.add_post("/api/chat/{key}/text", _refusing(_text))
    app.router.add_post("/api/chat/{key}/press", _refusing(_press))
    app.router.add_post("/api/chat/{key}/contact", _refusing(_contact))
    app.router.add_post("/api/chat/{key}/sample", _refusing(_sample))
    app.router.add_post("/api/chat/{key}/file", _refusing(_file))
    app.router.add_post("/api/chat/{key}/dashboard", _refusing(_dashboard))
    app.router.add_post("/api/time", _refusing(_time))
    app.router.add_get("/api/files/{file_id}", _bot_file)
    app.router.add_get("/api/oa-files/{token}", _oa_file)
    app.router.add_get("/uploads/{token}", _upload)
    app.router.add_get("/f/{rest:.*}", _download_link)
    app.router.add_post("/f/{rest:.*}", _download_link)  # the download button of the link's page
    return app


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=lambda b: json.dumps(b, ensure_ascii=False))


def _refusal(text: str, status: int = 400) -> web.Response:
    return _json({"ok": False, "error": text}, status)


def _refusing(handler: Handler) -> Handler:
    """Map the sandbox's refusals and unknown people to a JSON answer the page shows."""

    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except Refused as exc:
            return _refusal(str(exc))
        except KeyError:
            return _refusal(msg.SANDBOX_UNKNOWN_PERSON, 404)

    return wrapped


def _sandbox(request: web.Request) -> Sandbox:
    return request.app[_SANDBOX]


async def _body(request: web.Request) -> dict[str, Any]:
    with contextlib.suppress(ValueError, UnicodeDecodeError):
        data = await request.json()
        if isinstance(data, dict):
            return data
    return {}


# -- page and state ---------------------------------------------------------------------------------------


async def _index(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


async def _state(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    now = sandbox.now()
    linked = await sandbox.linked_keys()
    return _json(
        {
            "ok": True,
            "session": sandbox.session,
            "now": now.isoformat(),
            "now_text": now.strftime("%H:%M %d/%m/%Y"),
            "people": [_person(p, p.key in linked) for p in sandbox.personas.values()],
            "first": sandbox.first_persona(),
            "samples": [{"key": s.key, "label": s.label} for s in demo.SAMPLES.values()],
        }
    )


def _person(persona: Persona, linked: bool) -> dict[str, Any]:
    person = persona.demo
    return {
        "key": persona.key,
        "name": person.full_name,
        "role": person.role,
        "role_label": ROLE_NAMES[person.role],
        "unit": person.unit_name,
        "unit_code": person.unit_code,
        "platform": person.platform,
        "phone": person.phone,
        "linked": linked,
        "invite_code": None if linked else person.invite_code,
        "count": len(persona.bot_messages),
    }


# -- chats ------------------------------------------------------------------------------------------------


async def _chat(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    try:
        persona = sandbox.persona(request.match_info["key"])
    except KeyError:
        return _refusal(msg.SANDBOX_UNKNOWN_PERSON, 404)
    since = request.query.get("since")
    if since is not None and since.lstrip("-").isdigit() and int(since) == persona.version():
        await _changed(persona, int(since))
    return _json(sandbox.render.chat(persona))


async def _changed(persona: Persona, since: int) -> None:
    """Return when the bot sends or edits something in this chat, or after LONG_POLL seconds."""
    with contextlib.suppress(AssertionError):  # the fakes' wait_until says "not yet" this way
        await persona.user.wait_until(lambda _m: persona.version() != since, timeout=LONG_POLL)


async def _answer(sandbox: Sandbox, persona: Persona) -> web.Response:
    return _json(sandbox.render.chat(persona))


async def _text(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    persona = sandbox.persona(request.match_info["key"])
    text = str((await _body(request)).get("text") or "").strip()
    if not text:
        return _refusal(msg.SANDBOX_EMPTY_TEXT)
    await sandbox.say(persona, text)
    return await _answer(sandbox, persona)


async def _press(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    persona = sandbox.persona(request.match_info["key"])
    body = await _body(request)
    message_id = body.get("id")  # Telegram's is a number, the OA's a string
    if not isinstance(message_id, int | str) or isinstance(message_id, bool):
        return _refusal(msg.SANDBOX_NO_SUCH_BUTTON)
    await sandbox.press(persona, str(message_id), str(body.get("data") or ""))
    return await _answer(sandbox, persona)


async def _dashboard(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    persona = sandbox.persona(request.match_info["key"])
    return _json({"ok": True, "url": await sandbox.dashboard_link(persona)})


async def _contact(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    persona = sandbox.persona(request.match_info["key"])
    await sandbox.share_contact(persona)
    return await _answer(sandbox, persona)


async def _sample(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    persona = sandbox.persona(request.match_info["key"])
    await sandbox.send_sample(persona, str((await _body(request)).get("sample") or ""))
    return await _answer(sandbox, persona)


async def _file(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    persona = sandbox.persona(request.match_info["key"])
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        return _refusal(msg.SANDBOX_FILE_TOO_LARGE.format(mb=MAX_UPLOAD_MB))
    field = form.get("file")
    if not isinstance(field, web.FileField):
        return _refusal(msg.SANDBOX_NO_FILE)
    content = field.file.read()
    if not content:
        return _refusal(msg.SANDBOX_NO_FILE)
    mime = field.content_type or "application/octet-stream"
    as_photo = str(form.get("as_photo") or "") in ("1", "true", "on")
    await sandbox.send_file(persona, field.filename or "tep", content, mime, as_photo=as_photo)
    return await _answer(sandbox, persona)


async def _time(request: web.Request) -> web.Response:
    sandbox = _sandbox(request)
    now = await sandbox.travel(str((await _body(request)).get("step") or ""))
    return _json({"ok": True, "now": now.isoformat(), "now_text": now.strftime("%H:%M %d/%m/%Y")})


# -- files ------------------------------------------------------------------------------------------------


def _attachment(name: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(name, safe='')}"


async def _bot_file(request: web.Request) -> web.StreamResponse:
    stored = _sandbox(request).telegram.files.get(request.match_info["file_id"])
    if stored is None:
        raise web.HTTPNotFound()
    name = stored.file_name or ("photo.jpg" if stored.kind == "photo" else "file")
    headers = {} if stored.kind == "photo" else {"Content-Disposition": _attachment(name)}
    return web.Response(
        body=stored.content, content_type=stored.mime_type or "application/octet-stream", headers=headers
    )


async def _oa_file(request: web.Request) -> web.StreamResponse:
    """A file or image the bot uploaded to the fake OA, as the Zalo app shows it to the follower."""
    stored = _sandbox(request).zalo_oa.uploads.get(request.match_info["token"])
    if stored is None:
        raise web.HTTPNotFound()
    headers = {} if stored.kind == "image" else {"Content-Disposition": _attachment(stored.name)}
    return web.Response(
        body=stored.data, content_type=stored.mime or "application/octet-stream", headers=headers
    )


async def _upload(request: web.Request) -> web.StreamResponse:
    upload = _sandbox(request).uploads.get(request.match_info["token"])
    if upload is None:
        raise web.HTTPNotFound()
    headers = {} if upload.mime.startswith("image/") else {"Content-Disposition": _attachment(upload.name)}
    return web.Response(body=upload.content, content_type=upload.mime, headers=headers)


async def _download_link(request: web.Request) -> web.StreamResponse:
    """Pass a signed link through to the bot's server, which checks it, shows its page, and counts a download by
    the page's button (a POST) from the browser whose User-Agent is passed on."""
    base = _sandbox(request).runtime.downloads.base_url
    agent = {"User-Agent": request.headers.get("User-Agent", "")}
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            request.method, base + request.path_qs, headers=agent, allow_redirects=False
        ) as upstream,
    ):
        body = await upstream.read()
        headers = {k: v for k, v in upstream.headers.items() if k.lower() in _PASSED_HEADERS}
        return web.Response(status=upstream.status, body=body, headers=headers)
