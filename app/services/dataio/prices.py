"""Prices from a file: price list items (list, product, quantity break) and contract prices
(customer, product, quantity break, start date). A row whose key already exists updates that
price; otherwise it adds one. Existing data is loaded in a fixed number of queries."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import ContractPrice, Organisation, OrgKind, PriceList, PriceListItem, Product
from app.services.core.messages import message
from app.services.core import audit
from app.services.integrations import outbox
from app.services.dataio.fields import CheckedRow, Column, RowReader, in_chunks

PRICE_LIST_COLUMNS = (
    Column("price_list_code", "价目表编码"),
    Column("product_code", "商品编码"),
    Column("min_qty", "起始数量"),
    Column("price", "价格"),
)
PRICE_LIST_REQUIRED = ("price_list_code", "product_code", "price")

CONTRACT_COLUMNS = (
    Column("customer_code", "客户编码"),
    Column("product_code", "商品编码"),
    Column("min_qty", "起始数量"),
    Column("price", "价格"),
    Column("valid_from", "生效日期"),
    Column("valid_to", "失效日期"),
    Column("reference", "合同编号"),
)
CONTRACT_REQUIRED = ("customer_code", "product_code", "price")

CONTRACT_FIELDS = ["customer_id", "product_id", "min_qty", "price_fen", "valid_from", "valid_to", "reference"]


def _codes(rows, key: str) -> set[str]:
    return {v[key] for _n, v in rows if v.get(key)}


def _products_by_code(rows) -> dict[str, tuple[int, int]]:
    """{product code: (id, order_multiple)} for the products the file names."""
    found = {}
    for chunk in in_chunks(_codes(rows, "product_code")):
        found.update((code, (pid, multiple)) for code, pid, multiple in db.session.execute(
            select(Product.code, Product.id, Product.order_multiple).where(Product.code.in_(chunk))))
    return found


def _check_common(reader: RowReader, products: dict, key_column: str, known: dict, unknown_code: str):
    """The checks both price files share: owner code, product, quantity break and price.
    Returns (owner id, product id, min_qty, price_fen); parts that are invalid are None."""
    reader.require(key_column, "product_code", "price")
    owner_code = reader.values.get(key_column)
    owner_id = known.get(owner_code) if owner_code else None
    if owner_code and owner_id is None:
        reader.error(message(unknown_code, code=owner_code))
    product_code = reader.values.get("product_code")
    product = products.get(product_code) if product_code else None
    if product_code and product is None:
        reader.error(message("import.no_product", code=product_code))
    min_qty = reader.integer("min_qty", 1, 1_000_000) if reader.has("min_qty") else 1
    if product is not None and min_qty is not None and min_qty != 1 and min_qty % product[1]:
        reader.error(message("import.break_not_multiple", qty=min_qty, multiple=product[1]))
    price_fen = reader.money_fen("price")
    return owner_id, product[0] if product else None, min_qty, price_fen


def _duplicate(reader: RowReader, seen: dict, key: tuple, number: int, code: str) -> None:
    """`code`: the message naming what makes the key, with %(row)d for the earlier row."""
    if None in key[:3]:
        return
    if key in seen:
        reader.error(message(code, row=seen[key]))
    seen.setdefault(key, number)


def _planned(number, values, errors, existing, fields: dict) -> CheckedRow:
    if errors:
        return CheckedRow(number, values, errors)
    if existing is None:
        return CheckedRow(number, values, errors, "create", fields)
    changes = {k: v for k, v in fields.items() if getattr(existing, k) != v}
    return CheckedRow(number, values, errors, "update" if changes else "unchanged", changes, existing)


def check_price_list_items(rows: list[tuple[int, dict]]) -> list[CheckedRow]:
    lists = {}
    for chunk in in_chunks(_codes(rows, "price_list_code")):
        lists.update(db.session.execute(select(PriceList.code, PriceList.id).where(PriceList.code.in_(chunk))).all())
    products = _products_by_code(rows)
    existing = {}
    product_ids = [pid for pid, _m in products.values()]
    for chunk in in_chunks(product_ids):
        for item in db.session.scalars(select(PriceListItem).where(
                PriceListItem.price_list_id.in_(list(lists.values()) or [-1]), PriceListItem.product_id.in_(chunk))):
            existing[(item.price_list_id, item.product_id, item.min_qty)] = item
    seen: dict[tuple, int] = {}
    checked = []
    for number, values in rows:
        reader = RowReader(values, PRICE_LIST_COLUMNS)
        list_id, product_id, min_qty, price_fen = _check_common(
            reader, products, "price_list_code", lists, "import.no_price_list")
        key = (list_id, product_id, min_qty)
        _duplicate(reader, seen, key, number, "import.price_list_repeated")
        fields = {"price_list_id": list_id, "product_id": product_id, "min_qty": min_qty, "price_fen": price_fen}
        checked.append(_planned(number, values, reader.errors, existing.get(key), fields))
    return checked


def check_contract_prices(rows: list[tuple[int, dict]]) -> list[CheckedRow]:
    customers = {}
    for chunk in in_chunks(_codes(rows, "customer_code")):
        customers.update(db.session.execute(select(Organisation.code, Organisation.id).where(
            Organisation.code.in_(chunk), Organisation.kind.in_([OrgKind.DEALER.value, OrgKind.RETAILER.value]))).all())
    products = _products_by_code(rows)
    existing = {}
    for chunk in in_chunks(customers.values()):
        for contract in db.session.scalars(select(ContractPrice).where(ContractPrice.customer_id.in_(chunk))):
            existing[(contract.customer_id, contract.product_id, contract.min_qty, contract.valid_from)] = contract
    seen: dict[tuple, int] = {}
    checked = []
    for number, values in rows:
        reader = RowReader(values, CONTRACT_COLUMNS)
        customer_id, product_id, min_qty, price_fen = _check_common(
            reader, products, "customer_code", customers, "import.no_customer")
        valid_from, valid_to = reader.date("valid_from"), reader.date("valid_to")
        if valid_from and valid_to and valid_to < valid_from:
            reader.error(message("import.dates_reversed", to=valid_to.isoformat(), start=valid_from.isoformat()))
        reference = reader.text("reference", 40)
        key = (customer_id, product_id, min_qty, valid_from)
        _duplicate(reader, seen, key, number, "import.contract_repeated")
        fields = {"customer_id": customer_id, "product_id": product_id, "min_qty": min_qty,
                  "price_fen": price_fen, "valid_from": valid_from}
        target = existing.get(key)
        if reader.has("valid_to"):
            fields["valid_to"] = valid_to
        if reader.has("reference"):
            fields["reference"] = reference
        elif target is None:
            fields["reference"] = ""
        checked.append(_planned(number, values, reader.errors, target, fields))
    return checked


def _item_snapshot(item: PriceListItem, row: CheckedRow) -> dict:
    # The same shape app/services/pricing/admin.py records, so the trail reads alike.
    return {"item_id": item.id, "product_code": row.values["product_code"], "min_qty": item.min_qty,
            "price_fen": item.price_fen}


def _contract_snapshot(contract: ContractPrice, row: CheckedRow) -> dict:
    return audit.snapshot(contract, CONTRACT_FIELDS) | {"customer_code": row.values["customer_code"],
                                                        "product_code": row.values["product_code"]}


def apply_price_list_items(actor_id: int, checked: list[CheckedRow]) -> None:
    """Write the items of valid, checked rows; audited on their list (entity "price_list")."""
    created = []
    for row in checked:
        if row.action == "create":
            item = PriceListItem(**row.changes)
            db.session.add(item)
            created.append((item, row))
        elif row.action == "update":
            item = row.target
            before = _item_snapshot(item, row)
            for key, value in row.changes.items():
                setattr(item, key, value)
            audit.record(actor_id, "price_list.item.update", "price_list", item.price_list_id, before,
                         _item_snapshot(item, row), keep=("item_id", "product_code"))
    db.session.flush()
    for item, row in created:
        audit.record(actor_id, "price_list.item.create", "price_list", item.price_list_id, None,
                     _item_snapshot(item, row))
    made = {id(row): item for item, row in created}
    for row in checked:
        if row.action in ("create", "update"):
            item = row.target if row.action == "update" else made[id(row)]
            outbox.price_changed(item.product_id, row.values["product_code"], row.action + "d", source="price_list",
                                 price_list_id=item.price_list_id, min_qty=item.min_qty, price_fen=item.price_fen)


def apply_contract_prices(actor_id: int, checked: list[CheckedRow]) -> None:
    """Write the contract prices of valid, checked rows, one audit event each."""
    created = []
    for row in checked:
        if row.action == "create":
            contract = ContractPrice(**row.changes)
            db.session.add(contract)
            created.append((contract, row))
        elif row.action == "update":
            contract = row.target
            before = _contract_snapshot(contract, row)
            for key, value in row.changes.items():
                setattr(contract, key, value)
            audit.record(actor_id, "contract_price.update", "contract_price", contract.id, before,
                         _contract_snapshot(contract, row), keep=("customer_code", "product_code"))
    db.session.flush()
    for contract, row in created:
        audit.record(actor_id, "contract_price.create", "contract_price", contract.id, None,
                     _contract_snapshot(contract, row))
    made = {id(row): contract for contract, row in created}
    for row in checked:
        if row.action in ("create", "update"):
            contract = row.target if row.action == "update" else made[id(row)]
            outbox.price_changed(contract.product_id, row.values["product_code"], row.action + "d", source="contract",
                                 org_ids=(contract.customer_id,), customer_id=contract.customer_id,
                                 customer_code=row.values["customer_code"], min_qty=contract.min_qty,
                                 price_fen=contract.price_fen)
