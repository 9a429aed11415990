"""A dealer's stock: the shared stock pages (app/web/stock), limited to its own warehouses."""
from app.web.dealer import bp
from app.web.shared.stock import register_stock_pages

register_stock_pages(bp, lambda view: view, is_admin=False)
