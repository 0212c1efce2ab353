"""Issue 5 benchmark data: a province of 10,000 cells, 100 directives and 1,000,000 reports, bulk-inserted.

The directives take turns among the report kinds boards aggregate (issue 15): political study with a ratio,
resolution study with attendance, the monthly thought and opinion report, and rapid reports."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.seed import seed_province
from bot.core.clock import Clock
from storage.models import Directive, DirectiveTarget, Person, Report, Role

CHUNK = 5_000
FORMS = ("Sinh hoạt chi bộ thường kỳ", "Sinh hoạt chuyên đề", "Hội nghị / tọa đàm", "Trực tuyến", "Khác")
FORM_KEYS = ("sinh-hoat-chinh-tri", "hoc-tap-nghi-quyet", "tu-tuong-du-luan", "bao-cao-nhanh")


def _values(rng: random.Random, day: date, form_key: str) -> dict[str, object]:
    if form_key == "hoc-tap-nghi-quyet":
        return _study(rng, day)
    if form_key == "tu-tuong-du-luan":
        return _opinion(rng)
    if form_key == "bao-cao-nhanh":
        return _rapid(rng, day)
    total = rng.randint(8, 60)
    return {
        "ngay_to_chuc": day.isoformat(),
        "hinh_thuc": rng.choice(FORMS),
        "dang_vien": {"attended": rng.randint(total // 2, total), "total": total},
        "quan_chung": rng.randint(0, 40),
        "ket_qua": "Tổ chức nghiêm túc, đảng viên tham gia đầy đủ",
        "kho_khan": rng.choice(["Không", "Tài liệu đến muộn", "Đảng viên đi làm xa, khó tập trung"]),
    }


def _study(rng: random.Random, day: date) -> dict[str, object]:
    official, probationary = rng.randint(6, 55), rng.randint(0, 5)
    exempt = rng.randint(0, 3)
    excused = rng.randint(0, 3)
    unexcused = rng.randint(0, 1)
    present = official + probationary - exempt - excused - unexcused
    return {
        "ngay_hoc_tap": day.isoformat(),
        "nghi_quyet": "Nghị quyết Đại hội đại biểu toàn quốc lần thứ XIV của Đảng",
        "hinh_thuc": rng.choice(FORMS[:3]),
        "dang_vien": {
            "official": official,
            "probationary": probationary,
            "exempt": exempt,
            "excused": excused,
            "unexcused": unexcused,
            "present": present,
        },
        "quan_chung": rng.randint(0, 40),
        "ket_qua": "Đảng viên nắm chắc nội dung nghị quyết",
        "kho_khan": rng.choice(["Không", "Tài liệu đến muộn"]),
    }


def _opinion(rng: random.Random) -> dict[str, object]:
    return {
        "tinh_hinh_chung": "Tư tưởng đảng viên, quần chúng ổn định",
        "chu_de": rng.choice(["Kinh tế, đời sống, việc làm", "Đất đai, tài nguyên, môi trường", "Khác"]),
        "muc_do": rng.choice(["Bình thường", "Cần theo dõi", "Cần xử lý ngay"]),
        "noi_dung": "Dư luận quan tâm giá cả, việc làm",
        "de_xuat": rng.choice(["Không", "Đề nghị tăng cường tuyên truyền"]),
    }


def _rapid(rng: random.Random, day: date) -> dict[str, object]:
    return {
        "ngay_xay_ra": day.isoformat(),
        "su_viec": "Mưa lũ gây sạt lở đường vào bản",
        "dia_diem": "Bản Tả Phìn",
        "muc_do": rng.choice(["Cần nắm thông tin", "Cần theo dõi", "Khẩn cấp"]),
        "dien_bien": "Đường bị chia cắt, chưa có thiệt hại về người",
    }


async def seed(engine: AsyncEngine, clock: Clock, cells: int = 10_000, directives: int = 100) -> list[int]:
    """Units, secretaries, a board member of the province, `directives` directives to every cell, and one report
    per cell and directive (a tenth of them late, a tenth of the cells silent on the last ten directives)."""
    rng = random.Random(747)
    cell_ids = await seed_province(engine, clock, cells)
    now = clock.now()
    # All open: the first third past their deadline (overdue cells, escalations), the rest still running.
    start = now - timedelta(days=60)
    directive_rows = []
    for d in range(directives):
        issued = start + timedelta(hours=12 * d)
        directive_rows.append(
            {
                "id": d + 1,
                "number": f"{100 + d}-CV/TU",
                "doc_type": "CV",
                "issuer_code": "TU",
                "subject": f"Văn bản thử {d + 1}",
                "issued_on": issued.date(),
                "deadline": (issued + timedelta(days=45)).date(),
                "status": "sent",
                "form_key": FORM_KEYS[d % len(FORM_KEYS)],
                "meta": {},
                "body_text": "",
                "unit_id": 1,
                "created_at": issued,
                "sent_at": issued,
            }
        )
    async with engine.begin() as conn:
        await conn.execute(insert(Directive), directive_rows)
        board = cells + 1
        await conn.execute(
            insert(Person),
            [{"id": board, "full_name": "Cán bộ Ban Tuyên giáo", "phone": "0988000001", "created_at": now}],
        )
        await conn.execute(insert(Role), [{"id": board, "person_id": board, "kind": "board", "unit_id": 1}])
    report_id = 0
    for d, row in enumerate(directive_rows):
        targets, reports = [], []
        for i, unit_id in enumerate(cell_ids):
            silent = d >= directives - 10 and i % 10 == 0
            delivered = row["sent_at"] + timedelta(minutes=5)
            target = {
                "directive_id": row["id"],
                "unit_id": unit_id,
                "delivery": "sent",
                "delivered_at": delivered,
                "acknowledged_at": delivered + timedelta(hours=2),
                "reported_at": None,
                "late": False,
            }
            if not silent:
                late = i % 10 == 3
                submitted = min(
                    row["sent_at"] + timedelta(days=50 if late else 10, minutes=i % 600),
                    now - timedelta(minutes=i % 1440),
                )
                report_id += 1
                reports.append(
                    {
                        "id": report_id,
                        "directive_id": row["id"],
                        "unit_id": unit_id,
                        "person_id": i + 1,
                        "version": 1,
                        "is_latest": True,
                        "values": _values(rng, (submitted - timedelta(days=1)).date(), row["form_key"]),
                        "ref": f"BC-{report_id:06d}",
                        "late": late,
                        "submitted_at": submitted,
                        "channel": "telegram",
                    }
                )
                target |= {"reported_at": submitted, "late": late}
            targets.append(target)
        async with engine.begin() as conn:
            for chunk in range(0, len(targets), CHUNK):
                await conn.execute(insert(DirectiveTarget), targets[chunk : chunk + CHUNK])
            for chunk in range(0, len(reports), CHUNK):
                await conn.execute(insert(Report), reports[chunk : chunk + CHUNK])
    async with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            for table in ("directives", "reports", "people", "roles"):
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT COALESCE(MAX(id), 1) FROM {table}))"
                    )
                )
        else:
            await conn.execute(text("ANALYZE"))
    if engine.dialect.name == "postgresql":
        # A live database's tables have been vacuumed by autovacuum long before they hold a million reports; one
        # just bulk-loaded has not (autovacuum may or may not start during the timings), and without its visibility
        # map every index-only scan (the summary's new reports of the day) reads the table instead.
        async with engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text("VACUUM ANALYZE"))
    return cell_ids
