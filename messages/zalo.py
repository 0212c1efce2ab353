"""Texts only the Zalo adapter shows: Zalo bots cannot send documents, so a file goes out as a download link."""

from __future__ import annotations

from html import escape

FILE_LINK = "📎 Tải tệp: {name} ({size})\n{url}"


def file_link(name: str, size: int, url: str) -> str:
    """The line that stands for an attached file: its name, its size and the link to download it."""
    return FILE_LINK.format(name=name, size=human_size(size), url=url)


def human_size(size: int) -> str:
    """A file size as a Vietnamese reader writes it: 850 KB, 1,2 MB (decimal comma)."""
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    megabytes = f"{size / (1024 * 1024):.1f}".replace(".", ",").removesuffix(",0")
    return f"{megabytes} MB"


LINK_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:sans-serif;max-width:30em;margin:3em auto;padding:0 1em;line-height:1.5}}</style>
</head><body><h1>{title}</h1><p>{body}</p></body></html>"""
DOWNLOAD_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow"><title>Tải tệp: {name}</title>
<style>body{{font-family:sans-serif;max-width:30em;margin:2em auto;padding:0 1em;line-height:1.5}}
.f{{word-break:break-word;font-weight:bold}}button{{font-size:1.2em;padding:.7em 1.4em;width:100%;border:0;
border-radius:.4em;background:#0068ff;color:#fff}}</style>
</head><body><p>📎 Tệp văn bản</p><p class="f">{name}</p><p>Dung lượng: {size}</p>
<form method="post"><button type="submit">Tải xuống</button></form>
<p><small>Khi đồng chí tải tệp, trợ lý ghi nhận chi bộ đã nhận văn bản.</small></p></body></html>"""
LINK_TAMPERED_TITLE = "Đường link không hợp lệ"
LINK_TAMPERED_BODY = (
    "Đường link tải tệp này không đúng hoặc đã bị sửa. Đồng chí mở lại đường link trong tin nhắn của trợ lý, "
    "hoặc gõ «văn bản» để nhận lại tệp."
)
LINK_EXPIRED_TITLE = "Đường link đã hết hạn"
LINK_EXPIRED_BODY = (
    "Đường link tải tệp này đã hết hạn. Đồng chí gõ «văn bản» trong Zalo để nhận đường link mới."
)
LINK_MISSING_TITLE = "Không tìm thấy tệp"
LINK_MISSING_BODY = "Tệp này không còn trên máy chủ. Đồng chí liên hệ Ban Tuyên giáo."


def link_page(title: str, body: str) -> str:
    return LINK_PAGE.format(title=escape(title), body=escape(body))


def download_page(name: str, size: int) -> str:
    """The small page behind a file link: the file's name and size and the button that downloads it."""
    return DOWNLOAD_PAGE.format(name=escape(name), size=human_size(size))
