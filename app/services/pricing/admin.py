"""Price administration: price lists, their items (quantity breaks) and contract prices.

Every create, update and delete is audited. Item changes are recorded on their list (entity
"price_list"), contracts as "contract_price". Checks report every problem at once through
`InvalidInput`; services flush, the caller commits. How a price is then chosen lives in
app/services/pricing/prices.py; `explain_price` (app/services/pricing/check.py) shows it to admins."""
from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import (CHANNELS, DEALER_TIERS, ContractPrice, Organisation, PriceList, PriceListItem, Product,
                        Region)
from app.services.core import audit
from app.services.integrations import outbox
from app.services.catalog.admin import AUDIENCES, InvalidInput
from app.services.core.errors import DomainError

LIST_FIELDS = ["code", "name", "audience", "tier", "channel", "region_id", "priority", "valid_from", "valid_to",
               "active"]
CONTRACT_FIELDS = ["customer_id", "product_id", "min_qty", "price_fen", "valid_from", "valid_to", "reference"]
CUSTOMER_KINDS = ("dealer", "retailer")


def _text(value) -> str:
    return (value or "").strip()


def _check_dates(valid_from: date | None, valid_to: date | None, problems: list[DomainError]) -> None:
    if valid_from and valid_to and valid_to < valid_from:
        problems.append(DomainError(_("结束日期不能早于开始日期。"), field="valid_to"))


def _check_qty_and_price(min_qty, price_fen, problems: list[DomainError]) -> None:
    if not isinstance(min_qty, int) or min_qty < 1:
        problems.append(DomainError(_("起订数量必须是大于 0 的整数。"), field="min_qty"))
    if not isinstance(price_fen, int) or price_fen < 0:
        problems.append(DomainError(_("请输入不小于 0 的价格。"), field="price"))


def _raise_if(problems: list[DomainError]) -> None:
    if problems:
        raise InvalidInput(problems)


def _product_by_code(code: str, problems: list[DomainError]) -> Product | None:
    code = _text(code)
    product = db.session.scalar(select(Product).where(Product.code == code)) if code else None
    if product is None:
        problems.append(DomainError(_("没有编码为 %(code)s 的商品。", code=code) if code else _("请输入商品编码。"),
                                    field="product_code"))
    return product


# --- price lists --------------------------------------------------------------------------

def price_lists_query(q: str = "", audience: str | None = None):
    """Rows of (PriceList, region name, item count) for the list page."""
    items = (select(func.count()).where(PriceListItem.price_list_id == PriceList.id)
             .correlate(PriceList).scalar_subquery())
    query = select(PriceList, Region.name, items).outerjoin(Region, Region.id == PriceList.region_id)
    term = _text(q)
    if term:
        query = query.where(or_(PriceList.code.icontains(term, autoescape=True),
                                PriceList.name.icontains(term, autoescape=True)))
    if audience:
        query = query.where(PriceList.audience == audience)
    return query.order_by(PriceList.audience, PriceList.priority.desc(), PriceList.code)


def _list_values(values: dict, price_list: PriceList | None) -> tuple[dict, list[DomainError]]:
    problems: list[DomainError] = []
    cleaned = {
        "code": _text(values.get("code")), "name": _text(values.get("name")),
        "audience": _text(values.get("audience")), "tier": _text(values.get("tier")) or None,
        "channel": _text(values.get("channel")) or None, "priority": values.get("priority") or 0,
        "valid_from": values.get("valid_from"), "valid_to": values.get("valid_to"),
        "active": bool(values.get("active")), "region_id": None,
    }
    if not cleaned["code"]:
        problems.append(DomainError(_("请输入价目表编码。"), field="code"))
    else:
        clash = db.session.scalar(select(PriceList.id).where(PriceList.code == cleaned["code"]))
        if clash is not None and (price_list is None or clash != price_list.id):
            problems.append(DomainError(_("价目表编码已存在。"), field="code"))
    if not cleaned["name"]:
        problems.append(DomainError(_("请输入名称。"), field="name"))
    if cleaned["audience"] not in AUDIENCES:
        problems.append(DomainError(_("请选择客户类型。"), field="audience"))
    if cleaned["tier"] not in (None, *DEALER_TIERS):
        problems.append(DomainError(_("等级无效。"), field="tier"))
    if cleaned["channel"] not in (None, *CHANNELS):
        problems.append(DomainError(_("渠道无效。"), field="channel"))
    elif cleaned["channel"] and cleaned["audience"] == "dealer":
        problems.append(DomainError(_("渠道只适用于零售商价目表。"), field="channel"))
    region_code = _text(values.get("region_code"))
    if region_code:
        region_id = db.session.scalar(select(Region.id).where(Region.code == region_code))
        if region_id is None:
            problems.append(DomainError(_("没有编码为 %(code)s 的地区。", code=region_code), field="region_code"))
        cleaned["region_id"] = region_id
    _check_dates(cleaned["valid_from"], cleaned["valid_to"], problems)
    return cleaned, problems


def create_price_list(actor_id: int, values: dict) -> PriceList:
    cleaned, problems = _list_values(values, None)
    _raise_if(problems)
    price_list = PriceList(**cleaned)
    db.session.add(price_list)
    db.session.flush()
    audit.record(actor_id, "price_list.create", "price_list", price_list.id, None, audit.snapshot(price_list, LIST_FIELDS))
    return price_list


def update_price_list(actor_id: int, price_list: PriceList, values: dict) -> PriceList:
    cleaned, problems = _list_values(values, price_list)
    _raise_if(problems)
    before = audit.snapshot(price_list, LIST_FIELDS)
    for name, value in cleaned.items():
        setattr(price_list, name, value)
    db.session.flush()
    audit.record(actor_id, "price_list.update", "price_list", price_list.id, before,
                 audit.snapshot(price_list, LIST_FIELDS), keep=("code",))
    return price_list


def delete_price_list(actor_id: int, price_list: PriceList) -> None:
    before = audit.snapshot(price_list, LIST_FIELDS)
    before["items"] = db.session.scalar(select(func.count()).where(PriceListItem.price_list_id == price_list.id))
    audit.record(actor_id, "price_list.delete", "price_list", price_list.id, before, None)
    db.session.delete(price_list)
    db.session.flush()


def region_code_of(region_id: int | None) -> str:
    return db.session.scalar(select(Region.code).where(Region.id == region_id)) if region_id else ""


# --- price list items ---------------------------------------------------------------------

def list_items_query(price_list_id: int):
    """Rows of (PriceListItem, Product) of one list, by product code and break."""
    return (select(PriceListItem, Product).join(Product, Product.id == PriceListItem.product_id)
            .where(PriceListItem.price_list_id == price_list_id)
            .order_by(Product.code, PriceListItem.min_qty))


def _item_snapshot(item: PriceListItem, product_code: str) -> dict:
    return {"item_id": item.id, "product_code": product_code, "min_qty": item.min_qty, "price_fen": item.price_fen}


def _break_taken(price_list_id: int, product_id: int, min_qty: int, except_id: int | None) -> bool:
    clash = db.session.scalar(select(PriceListItem.id).where(
        PriceListItem.price_list_id == price_list_id, PriceListItem.product_id == product_id,
        PriceListItem.min_qty == min_qty))
    return clash is not None and clash != except_id


def add_list_item(actor_id: int, price_list: PriceList, *, product_code: str, min_qty, price_fen) -> PriceListItem:
    problems: list[DomainError] = []
    product = _product_by_code(product_code, problems)
    _check_qty_and_price(min_qty, price_fen, problems)
    if not problems and _break_taken(price_list.id, product.id, min_qty, None):
        problems.append(DomainError(_("该商品在此数量起点已有价格。"), field="min_qty"))
    _raise_if(problems)
    item = PriceListItem(price_list_id=price_list.id, product_id=product.id, min_qty=min_qty, price_fen=price_fen)
    db.session.add(item)
    db.session.flush()
    audit.record(actor_id, "price_list.item.create", "price_list", price_list.id, None, _item_snapshot(item, product.code))
    _list_price_event(item, product.code, "created")
    return item


def update_list_item(actor_id: int, item: PriceListItem, *, min_qty, price_fen) -> PriceListItem:
    problems: list[DomainError] = []
    _check_qty_and_price(min_qty, price_fen, problems)
    if not problems and _break_taken(item.price_list_id, item.product_id, min_qty, item.id):
        problems.append(DomainError(_("该商品在此数量起点已有价格。"), field="min_qty"))
    _raise_if(problems)
    code = db.session.scalar(select(Product.code).where(Product.id == item.product_id))
    before = _item_snapshot(item, code)
    item.min_qty, item.price_fen = min_qty, price_fen
    db.session.flush()
    audit.record(actor_id, "price_list.item.update", "price_list", item.price_list_id, before,
                 _item_snapshot(item, code), keep=("item_id", "product_code"))
    _list_price_event(item, code, "updated")
    return item


def delete_list_item(actor_id: int, item: PriceListItem) -> None:
    code = db.session.scalar(select(Product.code).where(Product.id == item.product_id))
    audit.record(actor_id, "price_list.item.delete", "price_list", item.price_list_id, _item_snapshot(item, code), None)
    _list_price_event(item, code, "deleted")
    db.session.delete(item)
    db.session.flush()


def _list_price_event(item: PriceListItem, product_code: str, change: str) -> None:
    outbox.price_changed(item.product_id, product_code, change, source="price_list", price_list_id=item.price_list_id,
                         min_qty=item.min_qty, price_fen=None if change == "deleted" else item.price_fen)


# --- contract prices ----------------------------------------------------------------------

def contracts_query(customer_code: str = "", product_code: str = ""):
    """Rows of (ContractPrice, customer Organisation, Product), filtered by exact codes."""
    query = (select(ContractPrice, Organisation, Product)
             .join(Organisation, Organisation.id == ContractPrice.customer_id)
             .join(Product, Product.id == ContractPrice.product_id))
    if _text(customer_code):
        query = query.where(Organisation.code == _text(customer_code))
    if _text(product_code):
        query = query.where(Product.code == _text(product_code))
    return query.order_by(Organisation.code, Product.code, ContractPrice.min_qty, ContractPrice.valid_from)


def _contract_values(values: dict, contract: ContractPrice | None) -> tuple[dict, list[DomainError], dict]:
    problems: list[DomainError] = []
    code = _text(values.get("customer_code"))
    customer = db.session.scalar(select(Organisation).where(Organisation.code == code)) if code else None
    if customer is None:
        problems.append(DomainError(_("没有编码为 %(code)s 的客户。", code=code) if code else _("请输入客户编码。"),
                                    field="customer_code"))
    elif customer.kind not in CUSTOMER_KINDS:
        problems.append(DomainError(_("合同价只能给经销商或零售商。"), field="customer_code"))
    product = _product_by_code(values.get("product_code"), problems)
    min_qty, price_fen = values.get("min_qty"), values.get("price_fen")
    _check_qty_and_price(min_qty, price_fen, problems)
    valid_from, valid_to = values.get("valid_from"), values.get("valid_to")
    _check_dates(valid_from, valid_to, problems)
    reference = _text(values.get("reference"))
    if len(reference) > 40:
        problems.append(DomainError(_("合同编号最多 40 个字符。"), field="reference"))
    if not problems:
        clash = db.session.scalars(select(ContractPrice).where(
            ContractPrice.customer_id == customer.id, ContractPrice.product_id == product.id,
            ContractPrice.min_qty == min_qty))
        if any(c.valid_from == valid_from and (contract is None or c.id != contract.id) for c in clash):
            problems.append(DomainError(_("该客户此商品在同一数量起点、同一开始日期已有合同价。"), field="min_qty"))
    cleaned = {"customer_id": customer.id if customer else None, "product_id": product.id if product else None,
               "min_qty": min_qty, "price_fen": price_fen, "valid_from": valid_from, "valid_to": valid_to,
               "reference": reference}
    codes = {"customer_code": code, "product_code": product.code if product else ""}
    return cleaned, problems, codes


def create_contract(actor_id: int, values: dict) -> ContractPrice:
    """values: customer_code, product_code, min_qty, price_fen, valid_from, valid_to, reference."""
    cleaned, problems, codes = _contract_values(values, None)
    _raise_if(problems)
    contract = ContractPrice(**cleaned)
    db.session.add(contract)
    db.session.flush()
    audit.record(actor_id, "contract_price.create", "contract_price", contract.id, None,
                 audit.snapshot(contract, CONTRACT_FIELDS) | codes)
    _contract_price_event(contract, "created")
    return contract


def update_contract(actor_id: int, contract: ContractPrice, values: dict) -> ContractPrice:
    cleaned, problems, codes = _contract_values(values, contract)
    _raise_if(problems)
    before = audit.snapshot(contract, CONTRACT_FIELDS) | contract_codes(contract)
    for name, value in cleaned.items():
        setattr(contract, name, value)
    db.session.flush()
    audit.record(actor_id, "contract_price.update", "contract_price", contract.id, before,
                 audit.snapshot(contract, CONTRACT_FIELDS) | codes, keep=("customer_code", "product_code"))
    _contract_price_event(contract, "updated")
    return contract


def delete_contract(actor_id: int, contract: ContractPrice) -> None:
    audit.record(actor_id, "contract_price.delete", "contract_price", contract.id,
                 audit.snapshot(contract, CONTRACT_FIELDS) | contract_codes(contract), None)
    _contract_price_event(contract, "deleted")
    db.session.delete(contract)
    db.session.flush()


def _contract_price_event(contract: ContractPrice, change: str) -> None:
    codes = contract_codes(contract)
    outbox.price_changed(contract.product_id, codes["product_code"], change, source="contract",
                         org_ids=(contract.customer_id,), customer_id=contract.customer_id,
                         customer_code=codes["customer_code"], min_qty=contract.min_qty,
                         price_fen=None if change == "deleted" else contract.price_fen)


def contract_codes(contract: ContractPrice) -> dict:
    """The customer and product codes of a contract row (for forms and the audit trail)."""
    customer, product = db.session.execute(select(
        select(Organisation.code).where(Organisation.id == contract.customer_id).scalar_subquery(),
        select(Product.code).where(Product.id == contract.product_id).scalar_subquery())).one()
    return {"customer_code": customer, "product_code": product}
