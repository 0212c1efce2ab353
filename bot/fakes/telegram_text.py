"""Telegram's text rules: parse_mode parsing into plain text + entities (UTF-16 offsets), length limits."""

from __future__ import annotations

import html
import re

from bot.fakes.telegram_models import JSON, bad_request

MAX_TEXT = 4096
MAX_CAPTION = 1024

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TAG_RE = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s[^<>]*)?)>")
_CHAR_REF_RE = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_ATTR_RE = re.compile(r"([a-zA-Z][\w-]*)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+))")
_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")
_MD_V2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def parse_text(
    text: str, parse_mode: str | None, entities: list[JSON] | None = None
) -> tuple[str, list[JSON]]:
    """Turn the text a bot sent into what the user sees: (plain text, entities), trimmed like Telegram."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        plain, found = _parse_html(text)
    elif mode in ("markdown", "markdownv2"):
        plain, found = _parse_markdown(text, v2=mode == "markdownv2")
    elif mode:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}")
    else:
        plain, found = text, list(entities or [])
    return _trim(plain, found)


def check_length(plain: str, *, caption: bool) -> None:
    """Telegram's limits after entity parsing: text 1..4096 characters, caption up to 1024."""
    if caption:
        if len(plain) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return
    if not plain:
        raise bad_request("message text is empty")
    if len(plain) > MAX_TEXT:
        raise bad_request("message is too long")


def command_entities(text: str) -> list[JSON]:
    """bot_command entities Telegram attaches to a user's text ("/start CODE")."""
    return [
        {"type": "bot_command", "offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group())}
        for m in _COMMAND_RE.finditer(text)
    ]


def _trim(plain: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    stripped = plain.strip()
    if stripped == plain:
        return plain, entities
    shift = utf16_len(plain[: len(plain) - len(plain.lstrip())])
    end = utf16_len(stripped)
    kept = []
    for ent in entities:
        start = max(0, ent["offset"] - shift)
        stop = min(end, ent["offset"] + ent["length"] - shift)
        if stop > start:
            kept.append({**ent, "offset": start, "length": stop - start})
    return stripped, kept


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())


def _entity_error(text: str, index: int, what: str) -> Exception:
    return bad_request(f"can't parse entities: {what} at byte offset {_byte_offset(text, index)}")


def _parse_html(text: str) -> tuple[str, list[JSON]]:
    out: list[str] = []
    pos16 = 0
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[JSON] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "&":
            ref = _CHAR_REF_RE.match(text, i)
            piece = html.unescape(ref.group()) if ref else "&"
            i = ref.end() if ref else i + 1
        elif ch == "<":
            tag = _TAG_RE.match(text, i)
            if tag is None:
                raise _entity_error(text, i, "Unsupported start tag")
            _html_tag(text, i, tag, stack, entities, pos16)
            i = tag.end()
            continue
        else:
            nxt = min((p for p in (text.find("<", i), text.find("&", i)) if p != -1), default=len(text))
            piece, i = text[i:nxt], nxt
        out.append(piece)
        pos16 += utf16_len(piece)
    if stack:
        raise bad_request(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1][0]}\""
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _html_tag(
    text: str,
    index: int,
    tag: re.Match[str],
    stack: list[tuple[str, int, dict[str, str]]],
    entities: list[JSON],
    pos16: int,
) -> None:
    closing, name = tag.group(1) == "/", tag.group(2).lower()
    if not closing:
        attrs = {
            m.group(1).lower(): html.unescape(m.group(2) or m.group(3) or m.group(4) or "")
            for m in _ATTR_RE.finditer(tag.group(3))
        }
        if re.search(r"(?<![\w=\"'-])expandable\b", tag.group(3)):  # a bare attribute, no value
            attrs["expandable"] = ""
        if name not in _HTML_TAGS:
            raise _entity_error(text, index, f'Unsupported start tag "{name}"')
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise _entity_error(text, index, 'Tag "span" must have class "tg-spoiler"')
        stack.append((name, pos16, attrs))
        return
    if not stack:
        raise _entity_error(text, index, f'Unexpected end tag "{name}"')
    open_name, start, attrs = stack.pop()
    if open_name != name:
        raise _entity_error(text, index, f'Unmatched end tag, expected "</{open_name}>", found "</{name}>"')
    if pos16 > start:
        entities.append(_html_entity(name, start, pos16 - start, attrs))


def _html_entity(name: str, offset: int, length: int, attrs: dict[str, str]) -> JSON:
    entity: JSON = {"type": _HTML_TAGS[name], "offset": offset, "length": length}
    if name == "a":
        href = attrs.get("href", "")
        user = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user:
            entity.update(
                type="text_mention", user={"id": int(user.group(1)), "is_bot": False, "first_name": ""}
            )
        else:
            entity["url"] = href
    elif name == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif name == "tg-emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    return entity


_MD_PAIRS_V2 = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}
_MD_PAIRS_V1 = {"*": "bold", "_": "italic"}
_MD_LINK_RE = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
_MD_CODE_RE = re.compile(r"```(?:([\w+-]+)\n)?(.*?)```|`([^`]*)`", re.S)


def _parse_markdown(text: str, *, v2: bool) -> tuple[str, list[JSON]]:
    """A compact Markdown/MarkdownV2 reader: the common entities, code blocks and V2's escaping rule."""
    pairs = _MD_PAIRS_V2 if v2 else _MD_PAIRS_V1
    out: list[str] = []
    pos16 = 0
    open_marks: dict[str, tuple[int, int]] = {}
    entities: list[JSON] = []
    i = 0
    while i < len(text):
        ch, piece, entity = text[i], None, None
        if ch == "`":
            piece, entity, i = _markdown_code(text, i, pos16, v2)
        elif v2 and ch == "\\" and i + 1 < len(text) and ord(text[i + 1]) < 127:
            piece, i = text[i + 1], i + 2
        elif text[i : i + 2] in pairs or ch in pairs:
            mark = text[i : i + 2] if text[i : i + 2] in pairs else ch
            if mark in open_marks:
                start, _ = open_marks.pop(mark)
                if pos16 > start:
                    entities.append({"type": pairs[mark], "offset": start, "length": pos16 - start})
            else:
                open_marks[mark] = (pos16, i)
            i += len(mark)
            continue
        elif ch == "[" and (link := _MD_LINK_RE.match(text, i)):
            piece, i = link.group(1), link.end()
            entity = {"type": "text_link", "offset": pos16, "length": utf16_len(piece), "url": link.group(2)}
        elif v2 and ch in _MD_V2_RESERVED:
            raise bad_request(
                f"can't parse entities: Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            piece, i = ch, i + 1
        if entity is not None and entity["length"] > 0:
            entities.append(entity)
        out.append(piece)
        pos16 += utf16_len(piece)
    if open_marks:
        _, index = min(open_marks.values(), key=lambda v: v[1])
        raise _entity_error(text, index, "Can't find end of the entity starting")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _markdown_code(text: str, index: int, pos16: int, v2: bool) -> tuple[str, JSON, int]:
    """`code` or ```lang\npre```: its text, its entity and where parsing goes on."""
    code = _MD_CODE_RE.match(text, index)
    if code is None:
        raise _entity_error(text, index, "Can't find end of the entity starting")
    block = code.group(0).startswith("```")
    body = code.group(2) if block else code.group(3)
    if v2:
        body = re.sub(r"\\([`\\])", r"\1", body)
    entity: JSON = {"type": "pre" if block else "code", "offset": pos16, "length": utf16_len(body)}
    if block and code.group(1):
        entity["language"] = code.group(1)
    return body, entity, code.end()
