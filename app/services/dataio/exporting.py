"""Exports of products, price list items and contract prices, with the columns the import
reads (Chinese headers), so a file exported here re-imports unchanged.

Rows are produced lazily from a streamed query, so a long export does not sit in memory."""
from __future__ import annotations

from decimal import Decimal
from typing import Iterator

from sqlalchemy import select

from app.extensions import db
from app.models import Category, ContractPrice, Organisation, PriceList, PriceListItem, Product
from app.services.dataio.importing import ImportKind


def yuan_amount(fen: int) -> Decimal:
    """Integer fen → Decimal yuan with two places (4800 → 48.00)."""
    return (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _stream(statement):
    return db.session.execute(statement.execution_options(yield_per=1000))


def _product_rows() -> Iterator[list]:
    statement = (select(Product, Category.code).join(Category, Product.category_id == Category.id)
                 .order_by(Product.code))
    for product, category_code in _stream(statement):
        yield [product.code, product.gtin or "", category_code, product.name_zh, product.name_en, product.spec,
               product.unit, product.pack_size, product.min_order_qty, product.order_multiple,
               product.shelf_life_days, product.tax_rate, product.status, product.launch_date,
               yuan_amount(product.base_price_fen)]


def _price_list_rows() -> Iterator[list]:
    statement = (select(PriceList.code, Product.code, PriceListItem.min_qty, PriceListItem.price_fen)
                 .join(PriceList, PriceListItem.price_list_id == PriceList.id)
                 .join(Product, PriceListItem.product_id == Product.id)
                 .order_by(PriceList.code, Product.code, PriceListItem.min_qty))
    for list_code, product_code, min_qty, price_fen in _stream(statement):
        yield [list_code, product_code, min_qty, yuan_amount(price_fen)]


def _contract_rows() -> Iterator[list]:
    statement = (select(Organisation.code, Product.code, ContractPrice.min_qty, ContractPrice.price_fen,
                        ContractPrice.valid_from, ContractPrice.valid_to, ContractPrice.reference)
                 .join(Organisation, ContractPrice.customer_id == Organisation.id)
                 .join(Product, ContractPrice.product_id == Product.id)
                 .order_by(Organisation.code, Product.code, ContractPrice.min_qty, ContractPrice.valid_from))
    for customer_code, product_code, min_qty, price_fen, valid_from, valid_to, reference in _stream(statement):
        yield [customer_code, product_code, min_qty, yuan_amount(price_fen), valid_from, valid_to, reference]


ROWS = {"products": _product_rows, "price_list_items": _price_list_rows, "contract_prices": _contract_rows}


def export_rows(kind: ImportKind) -> tuple[list[str], Iterator[list]]:
    """The header row and the data rows of `kind`, in the import's column order."""
    return kind.headers, ROWS[kind.key]()
