"""Money typed by people: yuan text ("48.50") to integer fen, exactly (Decimal, never float)."""
import re
import unicodedata
from decimal import Decimal

from flask_babel import gettext as _

from app.services.core.errors import DomainError

# Up to 100 million yuan: far above any price, far below BigInteger.
MAX_FEN = 100_000_000 * 100
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?|-?\.[0-9]+", re.ASCII)


def parse_yuan(text: str | None, field: str | None = None) -> int:
    """'48.50' → 4850. Accepts full-width digits, a leading ¥ and thousands commas; refuses
    negatives, more than two decimals and anything that is not a number."""
    cleaned = unicodedata.normalize("NFKC", text or "").strip().lstrip("¥").strip().replace(",", "")
    if not cleaned:
        raise DomainError(_("请输入金额。"), field=field)
    if not _NUMBER.fullmatch(cleaned):
        raise DomainError(_("请输入数字金额，例如 48.50。"), field=field)
    value = Decimal(cleaned)
    if value < 0:
        raise DomainError(_("金额不能为负数。"), field=field)
    fen = value * 100
    if fen != fen.to_integral_value():
        raise DomainError(_("金额最多两位小数。"), field=field)
    if fen > MAX_FEN:
        raise DomainError(_("金额过大。"), field=field)
    return int(fen)


def yuan_text(fen: int | None) -> str:
    """4850 → '48.50' (for form inputs; pages use the |yuan filter)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole}.{cents:02d}"
