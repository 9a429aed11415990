"""The bare Flask app the benchmarks measure the project against: the same Flask, Jinja2,
SQLAlchemy/psycopg and gunicorn, gzip like the project's pages (Flask-Compress), no login, no
ORM, no layout.

- `GET /` (`baseline.py`): one SELECT of 50 products and a 50-row Jinja table.
- `POST /order` (`order_throughput.py`): the bare order loop. One transaction of Core SQL inserts
  an order row and its lines (the form's `product_id`, `qty` and `price_fen`, repeated per line,
  with `buyer_id` and `seller_id`) into the scratch tables ORDERS_TABLE and LINES_TABLE (the
  orders and order_lines shape without foreign keys; `order_throughput.py` creates and drops
  them) and answers 303 to the order with a small HTML confirmation, as the project's checkout.

    DATABASE_URL=postgresql://... gunicorn --chdir bench bare_app:app
"""
from __future__ import annotations

import os

from flask import Flask, request
from flask_compress import Compress
from sqlalchemy import create_engine, text

from app.config import database_url
from benchlib import BARE_LINES_TABLE as LINES_TABLE, BARE_ORDERS_TABLE as ORDERS_TABLE
TAX_RATE = 13  # percent, as the demo's products

engine = create_engine(database_url(os.environ["DATABASE_URL"]), pool_recycle=1800)
app = Flask(__name__)
app.config["COMPRESS_MIMETYPES"] = ["text/html"]
Compress(app)

PAGE = app.jinja_env.from_string("""<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>商品</title></head>
<body><table>
<tr><th>编码</th><th>名称</th><th>规格</th><th>单价</th></tr>
{%- for p in products %}
<tr><td>{{ p.code }}</td><td>{{ p.name_zh }}</td><td>{{ p.spec }}</td><td>¥{{ "%.2f" | format(p.base_price_fen / 100) }}</td></tr>
{%- endfor %}
</table></body></html>""")
QUERY = text("SELECT id, code, name_zh, spec, base_price_fen FROM products WHERE status = 'active' "
             "ORDER BY code LIMIT 50")

CONFIRMATION = app.jinja_env.from_string("""<!doctype html>
<html lang="zh"><head><meta charset="utf-8"><title>订单已提交</title></head>
<body><p>订单 {{ number }} 已提交：{{ lines }} 行，合计 ¥{{ "%.2f" | format(total_fen / 100) }}。</p>
<p><a href="/order/{{ id }}">查看订单</a></p></body></html>""")
# The order numbered in its own INSERT from its id's sequence, as the project's checkout does.
INSERT_ORDER = text(f"""
    WITH n AS (SELECT nextval('{ORDERS_TABLE}_id_seq') AS id)
    INSERT INTO {ORDERS_TABLE} (id, number, buyer_id, seller_id, channel, status, line_count, total_fen, tax_fen,
                                note, created_at, updated_at)
    SELECT n.id, 'BO' || lpad(n.id::text, 10, '0'), :buyer, :seller, 'web', 'submitted', :lines, :total, :tax,
           '', now(), now() FROM n
    RETURNING id, number""")
INSERT_LINES = text(f"""
    INSERT INTO {LINES_TABLE} (order_id, product_id, qty, unit_price_fen, price_reason, tax_rate, line_total_fen,
                               tax_fen)
    SELECT :order, l.product_id, l.qty, l.price, 'base', {TAX_RATE}, l.total, l.tax
    FROM unnest(CAST(:products AS integer[]), CAST(:qtys AS integer[]), CAST(:prices AS bigint[]),
                CAST(:totals AS bigint[]), CAST(:taxes AS bigint[])) AS l(product_id, qty, price, total, tax)""")


@app.get("/")
def products():
    with engine.connect() as connection:
        rows = connection.execute(QUERY).all()
    return PAGE.render(products=rows)


@app.post("/order")
def order():
    form = request.form
    products = [int(v) for v in form.getlist("product_id")]
    qtys = [int(v) for v in form.getlist("qty")]
    prices = [int(v) for v in form.getlist("price_fen")]
    if not products or not (len(products) == len(qtys) == len(prices)) or min(qtys) <= 0:
        return "bad order", 400
    totals = [q * p for q, p in zip(qtys, prices)]
    taxes = [t * TAX_RATE // (100 + TAX_RATE) for t in totals]  # prices include tax
    with engine.begin() as connection:
        order_id, number = connection.execute(INSERT_ORDER, {
            "buyer": int(form["buyer_id"]), "seller": int(form["seller_id"]), "lines": len(products),
            "total": sum(totals), "tax": sum(taxes)}).one()
        connection.execute(INSERT_LINES, {"order": order_id, "products": products, "qtys": qtys, "prices": prices,
                                          "totals": totals, "taxes": taxes})
    body = CONFIRMATION.render(id=order_id, number=number, lines=len(products), total_fen=sum(totals))
    return body, 303, {"Location": f"/order/{order_id}"}
