"""`chibo forms add FILE`: a board's own report form from YAML, replaced on a second add, refused with the reasons
when invalid, and never allowed to take a built-in form's key."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app
from bot.services.forms import FieldType, FormSpec, form_from_dict
from storage.db import make_engine, make_sessionmaker
from storage.models import FormDef

CUSTOM = """\
key: hoc-tap-chuyen-de
title: Báo cáo học tập, quán triệt nghị quyết
fields:
  - key: ngay
    label: Ngày học tập
    type: date
  - key: hinh_thuc
    label: Hình thức
    type: choice
    choices: [Trực tiếp, Trực tuyến]
  - key: so_dang_vien
    label: Số đảng viên dự / tổng số
    type: ratio
  - key: anh
    label: Ảnh buổi học
    type: photo
"""


def stored_forms(db_url: str) -> dict[str, FormDef]:
    async def read() -> dict[str, FormDef]:
        engine = make_engine(db_url)
        try:
            async with make_sessionmaker(engine)() as session:
                return {row.key: row for row in (await session.scalars(select(FormDef))).all()}
        finally:
            await engine.dispose()

    return asyncio.run(read())


def write(tmp_path: Path, text: str, name: str = "mau.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_custom_form_is_added_then_replaced(cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    added = cli.invoke(app, ["forms", "add", str(write(tmp_path, CUSTOM))])
    assert added.exit_code == 0, added.output
    assert "Đã thêm mẫu báo cáo «Báo cáo học tập, quán triệt nghị quyết» (mã hoc-tap-chuyen-de, 4 mục)" in (
        " ".join(added.output.split())
    )
    row = stored_forms(db_url)["hoc-tap-chuyen-de"]
    assert not row.builtin
    form = form_from_dict(row.spec)
    assert isinstance(form, FormSpec) and [f.type for f in form.fields] == [
        FieldType.DATE,
        FieldType.CHOICE,
        FieldType.RATIO,
        FieldType.PHOTO,
    ]

    changed = CUSTOM.replace("Ảnh buổi học", "Ảnh minh chứng buổi học")
    replaced = cli.invoke(app, ["forms", "add", str(write(tmp_path, changed, "mau2.yaml"))])
    assert replaced.exit_code == 0, replaced.output
    assert "Đã cập nhật mẫu báo cáo" in replaced.output
    assert stored_forms(db_url)["hoc-tap-chuyen-de"].spec["fields"][3]["label"] == "Ảnh minh chứng buổi học"


def test_a_built_in_key_is_refused(cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    assert (
        cli.invoke(app, ["forms", "add", str(write(tmp_path, CUSTOM))]).exit_code == 0
    )  # installs built-ins
    path = write(tmp_path, CUSTOM.replace("hoc-tap-chuyen-de", "sinh-hoat-chinh-tri"), "sai.yaml")
    result = cli.invoke(app, ["forms", "add", str(path)])
    assert result.exit_code == 1
    assert "Mã mẫu «sinh-hoat-chinh-tri» là của một mẫu có sẵn, không thể thay" in " ".join(
        result.output.split()
    )
    row = stored_forms(db_url)["sinh-hoat-chinh-tri"]
    assert row.builtin and row.title == "Báo cáo kết quả sinh hoạt chính trị, tư tưởng"


def test_a_custom_form_holding_a_new_built_in_key_is_kept(
    cli: CliRunner, db_url: str, tmp_path: Path
) -> None:
    # A deployment that loaded its own form under a key a later release gives to a built-in keeps its own form.
    assert cli.invoke(app, ["forms", "add", str(write(tmp_path, CUSTOM))]).exit_code == 0

    async def take_key() -> None:
        engine = make_engine(db_url)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                row = await session.get(FormDef, "hoc-tap-nghi-quyet")
                assert row is not None and row.builtin
                row.builtin, row.title, row.spec = False, "Mẫu riêng", {**row.spec, "title": "Mẫu riêng"}
        finally:
            await engine.dispose()

    asyncio.run(take_key())
    again = cli.invoke(
        app, ["forms", "add", str(write(tmp_path, CUSTOM, "lai.yaml"))]
    )  # installs built-ins again
    assert again.exit_code == 0, again.output
    row = stored_forms(db_url)["hoc-tap-nghi-quyet"]
    assert not row.builtin and row.title == "Mẫu riêng"


def test_an_invalid_form_is_refused_with_its_lines(cli: CliRunner, db_url: str, tmp_path: Path) -> None:
    broken = CUSTOM.replace("type: ratio", "type: percent").replace("choices: [Trực tiếp, Trực tuyến]", "")
    result = cli.invoke(app, ["forms", "add", str(write(tmp_path, broken))])
    assert result.exit_code == 1
    output = " ".join(result.output.split())
    assert "Mẫu báo cáo chưa hợp lệ (2 lỗi)" in output
    assert "fields[2].type (dòng 13): Kiểu “percent” không có" in output
    assert "Mục kiểu choice cần danh sách lựa chọn" in output
    assert "hoc-tap-chuyen-de" not in stored_forms(db_url)


def test_a_file_that_is_not_utf8_is_refused(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "mau.yaml"
    path.write_bytes(CUSTOM.encode("utf-16"))
    result = cli.invoke(app, ["forms", "add", str(path)])
    assert result.exit_code == 1
    assert "không đọc được dưới dạng UTF-8" in result.output
