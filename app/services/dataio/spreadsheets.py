"""Reading and writing tables as CSV or XLSX.

Reading turns an uploaded file into a header row and data rows of plain strings (dates as
YYYY-MM-DD, whole numbers without ".0"), whatever the format. CSV is read as UTF-8 (with or
without BOM) and, failing that, as GB18030 (a superset of GBK, what Chinese Excel writes).
Writing makes CSV with a BOM (so Excel shows Chinese correctly) and XLSX.

Text that a spreadsheet would run as a formula (starting with = + - @) is written to CSV with a
leading apostrophe, which reading removes again, so an export re-imports unchanged."""
from __future__ import annotations

import csv
import io
import re
from itertools import chain
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Iterable, Iterator

from flask_babel import gettext as _
import xlsxwriter
from openpyxl import load_workbook

from app.services.core.clock import LOCAL
from app.services.core.errors import DomainError

FORMATS = ("csv", "xlsx")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# C0 controls but tab, newline and carriage return, and DEL: never data, and NUL breaks PostgreSQL.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_COLUMNS = 100  # far more than any import has; a sheet claiming thousands is not read cell by cell


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (row number in the file, header row = 1; cells)


class FileRejected(DomainError):
    def __init__(self, message: str):
        super().__init__(message, field="file")


def file_format(filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension not in FORMATS:
        raise FileRejected(_("只支持 CSV 或 XLSX 文件。"))
    return extension


def read_table(filename: str, data: bytes, max_rows: int) -> Table:
    """The file's header and non-blank data rows; FileRejected for an unreadable file or one
    with more than `max_rows` data rows (reading stops there)."""
    if file_format(filename) == "xlsx":
        lines = _xlsx_lines(data)
    else:
        lines = csv.reader(io.StringIO(_decode_csv(data), newline=""))
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    try:
        for number, raw in enumerate(lines, start=1):
            cells = [_cell_text(value) for value in raw]
            if any(CONTROL_CHARACTERS.search(c) for c in cells):
                raise FileRejected(_("第 %(n)d 行含有控制字符（如 NUL），无法导入。", n=number))
            if header is None:
                if any(cells):
                    header = [c.strip() for c in cells]
                continue
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= max_rows:
                raise FileRejected(_("文件超过 %(n)d 行数据，请拆分后分批导入。", n=max_rows))
            rows.append((number, cells))
    except csv.Error:
        raise FileRejected(_("无法读取该 CSV 文件，请检查格式后重试。")) from None
    if header is None:
        raise FileRejected(_("文件是空的。"))
    if not rows:
        raise FileRejected(_("文件中没有数据行。"))
    return Table(header, rows)


def _decode_csv(data: bytes) -> str:
    if b"\x00" in data[:4096] or data.startswith(b"PK\x03\x04"):
        raise FileRejected(_("这不是 CSV 文本文件。"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise FileRejected(_("无法识别文件编码，请保存为 UTF-8 或 GBK 编码的 CSV。")) from None


def _xlsx_lines(data: bytes) -> Iterator[tuple]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # a damaged file fails in many ways (zip, XML, styles, values); all mean "unreadable"
        raise FileRejected(_("无法读取该 XLSX 文件，请用 Excel 另存为 .xlsx 后重试。")) from None
    try:
        sheet = workbook.worksheets[0]
        yield from sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS)
    except Exception:  # a damaged sheet fails in many ways (XML, zip, values); all mean "unreadable"
        raise FileRejected(_("无法读取该 XLSX 文件，请用 Excel 另存为 .xlsx 后重试。")) from None
    finally:
        workbook.close()


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_STARTS:
            return value[1:]
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)  # shortest text that reads back as the same float: 12.34, not 12.339999
    return str(value)


def _csv_safe(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    text = str(value)
    return "'" + text if isinstance(value, str) and text.startswith(FORMULA_STARTS) else text


def csv_chunks(headers: list[str], rows: Iterable[list]) -> Iterator[bytes]:
    """CSV as UTF-8 with BOM, produced in chunks so a long export streams."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def flush() -> bytes:
        chunk = buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        return chunk

    writer.writerow(headers)
    yield "\ufeff".encode() + flush()
    for count, row in enumerate(rows, start=1):
        writer.writerow([_csv_safe(v) for v in row])
        if count % 1000 == 0:
            yield flush()
    if buffer.tell():
        yield flush()


def xlsx_bytes(headers: list[str], rows: Iterable[list], sheet_title: str) -> bytes:
    """An XLSX workbook with one sheet, written row by row by XlsxWriter in its constant-memory
    mode (each row goes to a temporary file as it is written): the brand's export by retailer is
    ~10⁵ rows, which openpyxl wrote in about twice the CPU and XlsxWriter's in-memory mode with
    ~250 MiB more. Text cells are stored as text, never as formulas, numbers or links; dates as
    dates (an aware time in China's time)."""
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(out, {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_numbers": False, "strings_to_urls": False})
    sheet = workbook.add_worksheet(sheet_title[:31])
    day, moment = workbook.add_format({"num_format": "yyyy-mm-dd"}), workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    for r, row in enumerate(chain([headers], rows)):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, str):
                sheet.write_string(r, c, value)
            elif isinstance(value, bool):
                sheet.write_boolean(r, c, value)
            elif isinstance(value, (int, float, Decimal)):
                sheet.write_number(r, c, float(value))
            elif isinstance(value, datetime):
                local = value.astimezone(LOCAL) if value.tzinfo else value  # stored UTC, read in China
                sheet.write_datetime(r, c, local.replace(tzinfo=None), moment)
            elif isinstance(value, date):
                sheet.write_datetime(r, c, value, day)
            else:
                sheet.write_string(r, c, str(value))
    workbook.close()
    return out.getvalue()

