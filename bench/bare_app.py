"""The bare Flask page `baseline.py` measures the project against: the same Flask, Jinja2,
SQLAlchemy/psycopg and gunicorn, one SELECT of 50 products and a 50-row Jinja table, gzip like
the project's pages (Flask-Compress), no login, no ORM, no layout.

    DATABASE_URL=postgresql://... gunicorn --chdir bench bare_app:app
"""
from __future__ import annotations

import os

from flask import Flask
from flask_compress import Compress
from sqlalchemy import create_engine, text

from app.config import database_url

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


@app.get("/")
def products():
    with engine.connect() as connection:
        rows = connection.execute(QUERY).all()
    return PAGE.render(products=rows)
