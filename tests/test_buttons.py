"""Button data: one codec for every button; what the bot sends decodes to its action, and forged data to None
(answered with a short notice, never acted on)."""

from __future__ import annotations

import pytest

from bot.fakes.telegram_models import Button as SentButton
from bot.fakes.telegram_server import FakeTelegram
from bot.runtime import Runtime
from handlers import buttons as b
from messages import common
from tests.support import board_and_secretaries
from tests.test_reports import CUC, answer, card_for, queue_directive

EVERY_ACTION: list[tuple[b.ButtonData, str]] = [
    (b.Acknowledge(747), "ack:747"),
    (b.ResendDirective(747), "vb:747"),
    (b.OpenReport(747), "rep:747"),
    (b.PickDirective(747, 12), "rk:747:12"),
    (b.PickChoice(747, "hinh_thuc", 2), "rc:747:hinh_thuc:2"),
    (b.SkipField(747, "ghi_chu"), "rs:747:ghi_chu"),
    (b.PhotosDone(747, "anh"), "rd:747:anh"),
    (b.Back(747), "rb:747"),
    (b.SendReport(747), "ro:747"),
    (b.EditReport(747), "re:747"),
    (b.EditField(747, "ngay"), "rf:747:ngay"),
    (b.CancelReport(), "rx"),
    (b.ShowStatus(747), "st:747"),
    (b.MissingPage(747, 3), "pg:747:3"),
    (b.Nudge(747), "nn:747"),
    (b.ExportExcel(747), "xl:747"),
    (b.DraftReport(747), "bc:747"),
    (b.TakeNumber(747), "bn:747"),
    (b.FromSource(747, "xlsx", "below"), "ru:747:xlsx:below"),
    (b.DrillDown(747, 12), "dd:747:12"),
    (b.ReissueUpper(747, 12), "hr:747:12"),
    (b.ForwardUpper(747, 12), "hf:747:12"),
    (b.ForwardWithFiles(747, 12), "ha:747:12"),
    (b.FilesDone(747, 12), "hd:747:12"),
    (b.SendUp(747, 12), "hu:747:12"),
    (b.CorrectField(9, 2, "parent_body"), "de:9:2:parent_body"),
    (b.ConfirmDeadline(9, 2, 20241030), "dc:9:2:20241030"),
    (b.ToForm(9, 2), "dn:9:2"),
    (b.ChooseForm(9, 2, "sinh-hoat-chinh-tri"), "df:9:2:sinh-hoat-chinh-tri"),
    (b.AllCells(9, 2), "da:9:2"),
    (b.ToggleUnit(9, 2, 41), "dt:9:2:41"),
    (b.TypeCodes(9, 2), "dk:9:2"),
    (b.SendDirective(9, 2), "ds:9:2"),
    (b.BackToPreview(9, 2), "db:9:2"),
    (b.CancelDraft(9, 2), "dx:9:2"),
    (b.UseSubjectHint(9, 2), "dh:9:2"),
    (b.RepeatAdd(9, 2, 747), "dpa:9:2:747"),
    (b.RepeatReplace(9, 2, 747), "dpr:9:2:747"),
    (b.RepeatNew(9, 2), "dpn:9:2"),
    (b.SendUnstaffed(9, 2, "hold"), "du:9:2:hold"),
]


@pytest.mark.parametrize(("action", "data"), EVERY_ACTION)
def test_each_action_keeps_its_wire_format_and_round_trips(action: b.ButtonData, data: str) -> None:
    assert action.encode() == data
    assert b.decode(data) == action


def test_every_registered_action_is_covered() -> None:
    assert {data.split(":")[0] for _, data in EVERY_ACTION} == set(b._CODECS)


@pytest.mark.parametrize(
    "forged",
    [
        "",
        "zz:1",
        "ack",  # a field missing
        "ack:1:2",  # one too many
        "ack:x",
        "ack:-1",
        "ack:²",  # a digit to str.isdigit, not to int()
        "rc:1:key:x",
        "rc:1::0",  # an empty key
        "rc:1:a b:0",
        "de:1:1:" + "x" * 41,
        "dt:1:1:" + "9" * 19,
        "dc",  # a draft button from before drafts were named: out of date
        "pg:747",  # paging always names its page
        "st:747:1",
        "dcx",
        "rx:1",
    ],
)
def test_forged_or_unknown_data_decodes_to_none(forged: str) -> None:
    assert b.decode(forged) is None


def test_data_over_64_bytes_is_refused_both_ways() -> None:
    long_key = "k" * 40  # the longest field key a form allows
    # A draft's buttons name the draft and its revision and still fit with the longest form key.
    assert len(b.ChooseForm(10**7, 10**4, long_key).encode().encode()) <= b.MAX_BYTES
    assert len(b.PickChoice(10**9, long_key, 99).encode().encode()) <= b.MAX_BYTES
    with pytest.raises(ValueError):
        b.PickChoice(10**17, long_key, 99).encode()
    assert b.decode(f"rc:{10**17}:{long_key}:99") is None


async def test_the_card_buttons_built_by_the_services_decode_to_their_actions(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    _, secretaries = await board_and_secretaries(bot, fake_tg)
    directive_id = await queue_directive(bot, "747-CV/ĐUK")
    card = await card_for(secretaries[CUC], "747-CV/ĐUK")
    assert [b.decode(button.data or "") for button in card.buttons] == [
        b.Acknowledge(directive_id),
        b.OpenReport(directive_id),
    ]


async def test_a_forged_button_gets_a_short_answer_and_changes_nothing(
    bot: Runtime, fake_tg: FakeTelegram
) -> None:
    _, secretaries = await board_and_secretaries(bot, fake_tg)
    await queue_directive(bot, "747-CV/ĐUK")
    cuc = secretaries[CUC]
    card = await card_for(cuc, "747-CV/ĐUK")
    card.buttons[0] = SentButton(card.buttons[0].label, "ack:747x")  # a client that rewrites callback data
    unknown = common.for_channel(common.BUTTON_UNKNOWN, commands=True)
    notice = await answer(cuc, cuc.press("ack:747x", message=card), unknown)
    assert notice.text == unknown
    # The forged press acknowledged nothing: typed afterwards, the acknowledgement is the first one.
    receipt = await answer(cuc, cuc.send_text("đã nhận"), "747-CV/ĐUK")
    assert receipt.text.startswith("✅ Đã ghi nhận đồng chí đã nhận văn bản 747-CV/ĐUK")
