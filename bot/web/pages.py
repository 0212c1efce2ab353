"""Rendering of the board's web pages: one Jinja2 environment over bot/web/templates, autoescaped, with the texts
of `messages.web` as `t` and the formatting helpers of `messages.formats` as filters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from messages import directives as intake_texts
from messages import documents, formats
from messages import levels as level_texts
from messages import web as msg

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals["t"] = msg
_env.globals["docs"] = documents
_env.globals["idocs"] = intake_texts  # the chat's wording of the repeat choices, shared
_env.globals["ilevels"] = level_texts  # and of the choice for units whose board has not joined
_env.filters["day"] = formats.day
_env.filters["percent"] = formats.format_percent
_env.filters["status_label"] = documents.status_label
_env.filters["code"] = formats.directive_code
_env.filters["review_label"] = documents.review_label


def render(template: str, status: int = 200, **values: Any) -> web.Response:
    text = _env.get_template(template).render(**values)
    return web.Response(
        status=status,
        text=text,
        content_type="text/html",
        headers={
            "Cache-Control": "no-store",
            "X-Frame-Options": "DENY",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
        },
    )


def message(status: int, title: str, body: str) -> web.Response:
    """A page that only says something: a refused link, a missing directive, a finished session."""
    return render("message.html", status, title=title, body=body, who=None)
