"""Jinja filters and globals: money, dates in Asia/Shanghai, stored messages, asset URLs, the vocabulary's labels,
QR codes."""
import segno
from flask import Flask, current_app
from flask_babel import format_date, format_datetime
from jinja2 import StrictUndefined
from markupsafe import Markup

from app.models import vocabulary
from app.services.core.messages import render as render_message
from app.services.core.messages import without_funding
from app.web.assets import asset_url
from app.web.common.fragments import cached_fragment
from app.web.common.i18n import current_locale, install_template_gettext


def yuan(fen: int | None) -> str:
    """Integer fen → '¥1,234.50'. Money is never a float before this point."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


def local_datetime(value, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    return format_datetime(value, fmt) if value else ""


def local_date(value, fmt: str = "yyyy-MM-dd") -> str:
    return format_date(value, fmt) if value else ""


def msg(value, fallback: str = "") -> str:
    """A stored message in the reader's language; text (typed by a person, or written before
    messages were stored as codes) as it is; `fallback` when there is no message."""
    return render_message(value, fallback)


def buyer_msg(value) -> str:
    """A promotion's explanation for the buyer's eyes: without who funds it (see without_funding)."""
    return render_message(without_funding(value))


def accuracy(wape: float | None) -> str:
    """A backtest's accuracy, 1 − WAPE, as a percentage. When the errors outweigh the sales
    (WAPE > 100 %, common for sparse product × province weeks) it is below zero: shown as "<0%",
    never as a flattering 0.0 %."""
    if wape is None:
        return "—"
    return "<0%" if wape > 1 else f"{(1 - wape) * 100:.1f}%"


def qr_svg(data: str, title: str = "") -> Markup:
    """`data` as a QR code in inline SVG (drawn on the server: no script, prints and scales cleanly)."""
    svg = segno.make(data, error="m", micro=False).svg_inline(scale=5, border=4, title=title or None, svgclass="qr",
                                                              lineclass=None)
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))


def pager(*args, **kwargs) -> Markup:
    """components/pager.html's `pager` macro, from the template's module built once (Jinja builds it
    again for every `{% from ... import %}` in an included template)."""
    return current_app.jinja_env.get_template("components/pager.html").module.pager(*args, **kwargs)


def register(app: Flask) -> None:
    if app.config.get("ENV_NAME") in ("development", "testing"):
        app.jinja_env.undefined = StrictUndefined
    app.jinja_env.filters.update(yuan=yuan, local_datetime=local_datetime, local_date=local_date, msg=msg, buyer_msg=buyer_msg,
                                 accuracy=accuracy, qr_svg=qr_svg)
    app.jinja_env.globals.update(asset_url=asset_url, current_locale=current_locale,
                                 vocabulary=vocabulary, cached_fragment=cached_fragment, pager=pager)
    install_template_gettext(app)
