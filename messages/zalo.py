"""Texts only the Zalo adapter shows: Zalo bots cannot send documents, so a file goes out as a download link."""

from __future__ import annotations

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
