"""The directive parser's time grows linearly with its input, whatever the input: hostile text (one long line of
letters, digits, words or label-like fragments) must not freeze the reading worker, nor the bot before it.

Timings are compared as ratios between sizes of the same input, never against wall-clock thresholds: a linear
parser takes about 8 times longer on 8 times the text (up to 12 once the text outgrows the CPU caches), a
quadratic one 64 times. The bounds sit between the two, far enough from linear for a busy shared machine."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import pytest

from bot.services.directive_parser import parse_directive

_PHRASE = (
    "Ban Thường vụ Đảng ủy Khối đề nghị các chi bộ tổ chức quán triệt triển khai thực hiện nghiêm túc "
    "và báo cáo kết quả về trước ngày tháng năm Số Kính gửi Nơi nhận"
)
_WORDS = _PHRASE.split()


def _vietnamese_words(size: int) -> str:
    rng = random.Random(size)
    words: list[str] = []
    length = 0
    while length < size:
        words.append(rng.choice(_WORDS))
        length += len(words[-1]) + 1
    return " ".join(words)


def _repeated(unit: str) -> Callable[[int], str]:
    return lambda size: (unit * (size // len(unit) + 1))[:size]


INPUTS: dict[str, Callable[[int], str]] = {
    "letters": _repeated("a"),
    "capitals": _repeated("Đ"),
    "digits": _repeated("7"),
    "vietnamese words": _vietnamese_words,
    "place and date fragments": _repeated("Hà Nội, ngày tháng năm "),
    "number fragments": _repeated("Số 747-CV/ĐUK 12/2024/QĐ-UBND "),
    "period and deadline fragments": _repeated("từ 01/5 đến trước ngày 30/10 hằng năm "),
    "report recipient fragments": _repeated("báo cáo kết quả về Ban (qua "),
    "materials labels": _repeated("Tài liệu sinh hoạt:\n1. x\n"),
    "signature fragments": _repeated("T/M BAN THƯỜNG VỤ\nNơi nhận:\n- Như trên,\n"),
    "deadline kinds in one sentence": _repeated(
        "hoàn thành trước ngày 01/11 định kỳ báo cáo trước ngày 15/6 "
    ),
    "destinations after a verb": _repeated("gửi bản tổng hợp cho Ban chờ Ban cho "),
    "table cells and cut header lines": _repeated("| Số:\n| Hà Nội, ngày 16\ntháng 6 năm 2025 |\n"),
    "subject lines under a heading": _repeated("KẾT LUẬN\nvề việc\nThực hiện Kế hoạch của\n"),
}


def _parse_time(text: str) -> float:
    """The best of a few runs in CPU time: the machine is shared, and only the parser's own cost is compared
    (time spent waiting for a core while other processes run is not counted)."""
    best = float("inf")
    for _ in range(5):
        started = time.process_time()
        parse_directive(text)
        best = min(best, time.process_time() - started)
    return best


@pytest.mark.parametrize("make", INPUTS.values(), ids=INPUTS.keys())
def test_parse_time_grows_linearly(make: Callable[[int], str]) -> None:
    small, large = _parse_time(make(10_000)), _parse_time(make(80_000))
    # Linear is about 8, quadratic 64; a loaded machine stretches single timings, hence the room up to 32.
    assert large / small < 32, f"80 KB took {large / small:.1f} times as long as 10 KB"


def test_a_70_kb_line_of_letters_costs_about_70_times_a_1_kb_one() -> None:
    # The line that once blocked every user for 273 s: quadratic, it cost about 4900 times the 1 KB one.
    one_kb, seventy_kb = _parse_time("a" * 1_000), _parse_time("a" * 70_000)
    assert seventy_kb / one_kb < 700
