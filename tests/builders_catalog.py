"""Builders and page helpers for the admin catalog, price and pricing tests."""
from __future__ import annotations

import io
import re
from datetime import date

from PIL import Image

from app.extensions import db
from app.models import ContractPrice, PriceList, PriceListItem, ProductVisibility
from app.services.catalog.gtin import with_check_digit


def price_list(code: str, audience: str = "retailer", **kw) -> PriceList:
    values = dict(code=code, name=kw.pop("name", f"价目表 {code}"), audience=audience, priority=0, active=True)
    values.update(kw)
    row = PriceList(**values)
    db.session.add(row)
    db.session.flush()
    return row


def list_item(price_list: PriceList, product, price_fen: int, min_qty: int = 1) -> PriceListItem:
    item = PriceListItem(price_list_id=price_list.id, product_id=product.id, min_qty=min_qty, price_fen=price_fen)
    db.session.add(item)
    db.session.flush()
    return item


def contract(customer, product, price_fen: int, min_qty: int = 1, reference: str = "HT-1",
             valid_from: date | None = None, valid_to: date | None = None) -> ContractPrice:
    row = ContractPrice(customer_id=customer.id, product_id=product.id, price_fen=price_fen, min_qty=min_qty,
                        reference=reference, valid_from=valid_from, valid_to=valid_to)
    db.session.add(row)
    db.session.flush()
    return row


def visibility(product, **kw) -> ProductVisibility:
    rule = ProductVisibility(product_id=product.id, **kw)
    db.session.add(rule)
    db.session.flush()
    return rule


def gtin13(n: int) -> str:
    return with_check_digit(f"690000{n:06d}")


def image_bytes(fmt: str = "JPEG", size=(1200, 900), color=(200, 30, 30), mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color).save(out, fmt)
    return out.getvalue()


def upload(data: bytes, filename: str = "photo.jpg"):
    return (io.BytesIO(data), filename)


def field_block(html: str, name: str) -> str:
    """The HTML of one form field (label, input, message) rendered by components/form.html."""
    start = html.find(f'id="field-{name}"')
    assert start != -1, f"no field {name!r} on the page"
    end = html.find('<div class="field', start)
    return html[start:end if end != -1 else len(html)]


def field_error(html: str, name: str) -> str | None:
    """The error message shown next to field `name`, or None."""
    match = re.search(r'<p class="error" id="[^"]*-msg">(.*?)</p>', field_block(html, name), re.S)
    return match.group(1) if match else None
