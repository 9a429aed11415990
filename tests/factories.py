"""Small builders for test data. They add and flush; tests commit when a request must see it."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from app.extensions import db
from app.models import (PERMISSIONS, Category, DealerTerritory, Organisation, Product, Region, RepRoute,
                        User)
from app.services.accounts.users import hash_password

PASSWORD = "test-pass-123"
_seq = itertools.count(1)
_hash_cache: dict[str, str] = {}


def _password_hash() -> str:
    if PASSWORD not in _hash_cache:
        _hash_cache[PASSWORD] = hash_password(PASSWORD)
    return _hash_cache[PASSWORD]


def region(name="浙江省", parent: Region | None = None, code=None) -> Region:
    r = Region(code=code or f"R{next(_seq)}", name=name, level=(parent.level + 1) if parent else 1,
               parent_id=parent.id if parent else None, path="")
    db.session.add(r)
    db.session.flush()
    r.path = (parent.path if parent else "/") + f"{r.id}/"
    return r


def org(kind: str, name: str | None = None, **kw) -> Organisation:
    n = next(_seq)
    o = Organisation(kind=kind, code=kw.pop("code", f"{kind[:1].upper()}{n:05d}"), name=name or f"{kind}-{n}", **kw)
    db.session.add(o)
    db.session.flush()
    return o


def user(role: str, organisation: Organisation, username: str | None = None, **kw) -> User:
    u = User(username=username or f"{role}{next(_seq)}", password_hash=_password_hash(), role=role,
             org_id=organisation.id, **kw)
    if role == "admin" and "permissions" not in kw:
        u.permissions = " ".join(PERMISSIONS)
    db.session.add(u)
    db.session.flush()
    return u


def category(code=None, name_zh="饮料", name_en="Drinks") -> Category:
    c = Category(code=code or f"C{next(_seq)}", name_zh=name_zh, name_en=name_en)
    db.session.add(c)
    db.session.flush()
    return c


def product(cat: Category | None = None, **kw) -> Product:
    n = next(_seq)
    values = dict(code=f"P{n:05d}", name_zh=f"测试商品{n}", name_en=f"Test product {n}", spec="500ml×24",
                  unit="箱", pack_size=24, min_order_qty=1, order_multiple=1, shelf_life_days=365,
                  tax_rate=13, status="active", base_price_fen=4800)
    values.update(kw)
    p = Product(category_id=(cat or category()).id, **values)
    db.session.add(p)
    db.session.flush()
    return p


@dataclass
class World:
    """brand; regions east (浙江 → 杭州) and west (四川 → 成都); dealer (east) and dealer_b (west);
    retailer served by dealer, retailer_b served by dealer_b; users for every role, plus
    *_b users of the second organisation of the same role."""

    brand: Organisation
    regions: dict[str, Region]
    orgs: dict[str, Organisation]
    users: dict[str, User] = field(default_factory=dict)


def make_world() -> World:
    zj = region("浙江省")
    hz = region("杭州市", zj)
    sc = region("四川省")
    cd = region("成都市", sc)
    brand = org("brand", "联营品牌总部", code="BRAND")
    dealer = org("dealer", "杭州经销商", region_id=hz.id, tier="A", credit_limit_fen=50_000_000)
    dealer_b = org("dealer", "成都经销商", region_id=cd.id, tier="B", credit_limit_fen=50_000_000)
    db.session.add_all([DealerTerritory(dealer_id=dealer.id, region_id=hz.id),
                        DealerTerritory(dealer_id=dealer_b.id, region_id=cd.id)])
    retailer = org("retailer", "西湖小卖部", region_id=hz.id, channel="kiosk", dealer_id=dealer.id)
    retailer_b = org("retailer", "锦江便利店", region_id=cd.id, channel="convenience", dealer_id=dealer_b.id)
    users = {
        "admin": user("admin", brand, "admin1"),
        "admin_b": user("admin", brand, "admin2", permissions=""),
        "dealer": user("dealer", dealer, "dealer1"),
        "dealer_b": user("dealer", dealer_b, "dealer2"),
        "retailer": user("retailer", retailer, "retailer1"),
        "retailer_b": user("retailer", retailer_b, "retailer2"),
        "rep": user("rep", brand, "rep1"),
        "rep_b": user("rep", brand, "rep2"),
    }
    db.session.add_all([RepRoute(rep_id=users["rep"].id, retailer_id=retailer.id, weekday=0),
                        RepRoute(rep_id=users["rep_b"].id, retailer_id=retailer_b.id, weekday=0)])
    db.session.commit()
    return World(brand, {"zj": zj, "hz": hz, "sc": sc, "cd": cd},
                 {"brand": brand, "dealer": dealer, "dealer_b": dealer_b, "retailer": retailer,
                  "retailer_b": retailer_b}, users)
