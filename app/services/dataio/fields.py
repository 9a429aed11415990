"""Columns of the import files and the parsing of their cells.

A column is known by its English key (`code`), its Chinese header (`商品编码`) or an alias; the
Chinese header is what exports write. `RowReader` parses one row's cells and collects every
problem as a message naming the column, so the preview can list all reasons at once."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation


from app.services.core.messages import Message, message
from app.services.core.errors import DomainError
from app.services.core.money import parse_yuan

DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d")


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    aliases: tuple[str, ...] = ()

    def names(self) -> set[str]:
        return {normalise_header(n) for n in (self.key, self.header, *self.aliases)}


def normalise_header(name: str) -> str:
    text = name.replace("\ufeff", "").strip().lower()
    for suffix in ("(元)", "（元）"):
        text = text.removesuffix(suffix).strip()
    return text


@dataclass
class HeaderMap:
    positions: dict[str, int] = field(default_factory=dict)  # column key → cell index
    unknown: list[str] = field(default_factory=list)
    repeated: list[str] = field(default_factory=list)
    missing: list[Column] = field(default_factory=list)


def map_headers(columns: tuple[Column, ...], headers: list[str], required: tuple[str, ...]) -> HeaderMap:
    by_name = {name: column for column in columns for name in column.names()}
    result = HeaderMap()
    for index, header in enumerate(headers):
        if not header.strip():
            continue  # spreadsheets often carry empty trailing columns
        column = by_name.get(normalise_header(header))
        if column is None:
            result.unknown.append(header)
        elif column.key in result.positions:
            result.repeated.append(header)
        else:
            result.positions[column.key] = index
    result.missing = [c for c in columns if c.key in required and c.key not in result.positions]
    return result


def row_values(header_map: HeaderMap, cells: list[str]) -> dict[str, str]:
    """The row's cells by column key, stripped; only the file's known columns."""
    return {key: (cells[index].strip() if index < len(cells) else "")
            for key, index in header_map.positions.items()}


class RowReader:
    """Parses one row's values. Each reader method returns None for an empty or invalid cell and
    records a message for an invalid one."""

    def __init__(self, values: dict[str, str], columns: tuple[Column, ...]):
        self.values = values
        self.headers = {c.key: c.header for c in columns}
        self.errors: list[Message] = []

    def has(self, key: str) -> bool:
        return bool(self.values.get(key))

    def error(self, problem: Message) -> None:
        self.errors.append(problem)

    def require(self, *keys: str) -> bool:
        """Records a message for each empty key; True when all are filled."""
        ok = True
        for key in keys:
            if not self.has(key):
                self.error(message("import.required", column=self.headers[key]))
                ok = False
        return ok

    def text(self, key: str, max_length: int) -> str | None:
        value = self.values.get(key) or None
        if value is not None and len(value) > max_length:
            self.error(message("import.too_long", column=self.headers[key], n=max_length))
            return None
        if value is not None and any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            # Line breaks and control characters break printed sheets and XLSX exports.
            self.error(message("import.control_chars", column=self.headers[key]))
            return None
        return value

    def integer(self, key: str, minimum: int = 1, maximum: int = 1_000_000) -> int | None:
        if not self.has(key):
            return None
        try:
            number = Decimal(self.values[key].replace(",", ""))
            valid = number.is_finite() and number == number.to_integral_value()
        except InvalidOperation:
            valid = False
        if not valid or not minimum <= number <= maximum:
            self.error(message("import.integer_range", column=self.headers[key],
                         lo=minimum, hi=maximum))
            return None
        return int(number)

    def money_fen(self, key: str) -> int | None:
        """Yuan as written ("12.50", "¥1,200") → integer fen, exactly (app.services.core.money)."""
        if not self.has(key):
            return None
        try:
            return parse_yuan(self.values[key])
        except DomainError as error:
            self.error(message("import.column_problem", column=self.headers[key], message=error.message))
            return None

    def date(self, key: str) -> date | None:
        if not self.has(key):
            return None
        text = self.values[key].split(" ")[0].split("T")[0]
        for fmt in DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        self.error(message("import.bad_date", column=self.headers[key]))
        return None

    def tax_rate(self, key: str, allowed: tuple[int, ...]) -> int | None:
        """"13", "13%" or 0.13 (an Excel percent cell) → 13."""
        if not self.has(key):
            return None
        try:
            rate = Decimal(self.values[key].rstrip("%").strip())
            if 0 < rate < 1:
                rate *= 100
        except InvalidOperation:
            rate = None
        if rate is None or not rate.is_finite() or rate != rate.to_integral_value() or int(rate) not in allowed:
            self.error(message("import.one_of", column=self.headers[key],
                         allowed=" / ".join(str(r) for r in allowed)))
            return None
        return int(rate)

    def choice(self, key: str, choices: dict[str, str]) -> str | None:
        """A value from `choices` ({accepted text: stored value}), case-insensitive."""
        if not self.has(key):
            return None
        value = choices.get(self.values[key].lower())
        if value is None:
            self.error(message("import.one_of", column=self.headers[key],
                         allowed=" / ".join(sorted(set(choices.values())))))
        return value


def in_chunks(values, size: int = 5000):
    """Split a long IN (...) list so no statement passes the databases' parameter limits."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


@dataclass
class CheckedRow:
    """One data row after validation: its problems, or what applying it will do."""

    number: int
    values: dict[str, str]
    errors: list[Message]  # stored as code + parameters, shown in the reader's language
    action: str | None = None  # "create" | "update" | "unchanged"; None while it has errors
    changes: dict = field(default_factory=dict)  # model attribute → new value
    target: object | None = None  # the existing row an update changes

    def stored(self) -> dict:
        return {"row": self.number, "values": self.values, "errors": [e.to_json() for e in self.errors],
                "action": None if self.errors else self.action}
