"""What a notice says: a message code and its parameters, rendered in the reader's language when
the notice is shown (the notification centre) or sent (the e-mail, in the default language).

A notice stores `message` (a code below) and `params` (JSON: numbers, names, codes, and the
words a person typed, such as a rejection note). Params named in a message's `labels` are codes
turned into labels of the reader's language (an order status, hold reasons); a message without
a body template shows the param `note` as written (what a person typed is never translated).
"plain" is text stored as written: notices made before messages were stored as codes.

Adding a notice: add its code here with `_l()` templates (and their English in messages.po),
then `notify(..., message=code, params={...})`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from flask_babel import lazy_gettext as _l

from app.models.vocabulary import OrderStatus, PresaleBalance
from app.services.core.messages import SEPARATORS, render as render_message

PLAIN = "plain"


def _hold_reasons(codes: list[str]) -> str:
    from app.services.approval.automatic import REASON_LABELS  # approval notifies through us

    return str(SEPARATORS["、"]).join(str(REASON_LABELS.get(code, code)) for code in codes or [])


@dataclass(frozen=True)
class Message:
    title: Any                     # a lazy string formatted with the (labelled) params
    body: Any = None               # idem; None: the param "note", as written
    labels: Mapping[str, Callable[[Any], str]] = field(default_factory=dict)


MESSAGES: dict[str, Message] = {
    "order.status": Message(_l("订单 %(n)s：%(status)s"), labels={"status": OrderStatus.label_of}),
    "order.shipment": Message(_l("订单 %(n)s：又发出一批货"), _l("发货单 %(shipment)s：%(carrier)s %(tracking)s")),
    "order.placed_by_rep": Message(_l("业务员 %(name)s 为您下了订单 %(number)s"),
                                   _l("共 %(n)d 种商品，合计 ¥%(total)s。")),
    "order.review": Message(_l("订单 %(n)s 待审核：%(reasons)s"), labels={"reasons": _hold_reasons}),
    "order.review_new": Message(_l("新订单 %(n)s 待审核"), _l("%(buyer)s，%(lines)d 种商品。")),
    "order.cancelled_by_buyer": Message(_l("客户取消了订单 %(n)s")),
    "order.reduced": Message(_l("订单 %(n)s 的数量已调整")),
    "return.requested": Message(_l("订单 %(n)s 申请退货 %(r)s")),
    "return.accepted": Message(_l("退货 %(n)s 已接受")),
    "loyalty.expiring": Message(_l("%(points)d 积分即将到期"), _l("最早一批将于 %(date)s 到期，请尽快在购物车中使用或兑换礼品。")),
    "return.refused": Message(_l("退货 %(n)s 未被接受")),
    "stock.low_stock": Message(_l("库存低于再订货点：%(what)s"), _l("可用 %(a)d，再订货点 %(r)d。")),
    "promotion.budget_80": Message(_l("促销 %(name)s 的预算已用 %(pct)d%%"),
                                   _l("编号 %(code)s。预算用完后，购物车不再给出这项优惠。")),
    "stock.near_expiry": Message(_l("临期库存：%(what)s"), _l("%(q)d 件将于 %(d)s 前到期。")),
    "groupbuy.succeeded": Message(_l("团购“%(name)s”已成团：¥%(price)s/箱"),
                                  _l("订单 %(n)s 按成团价退差价 ¥%(credit)s（红字单 %(note)s）。")),
    "presale.released": Message(_l("预售订单 %(n)s 已发布"), _l("尾款 ¥%(balance)s：%(state)s（尾款截止 %(due)s）。"),
                                labels={"state": PresaleBalance.label_of}),
    "webhook.disabled": Message(_l("Webhook 订阅已停用：%(url)s"),
                                _l("连续 %(n)d 次投递失败。修复接收端后，可通过 API 重新启用并重发。")),
}


@dataclass(frozen=True)
class Text:
    title: str
    body: str


def _format(template, values: dict) -> str:
    text = str(template)  # the lazy string, translated now: the reader's language
    try:
        return (text % values).strip()
    except (KeyError, TypeError, ValueError):  # a row whose params do not fit (should not happen)
        return text


def render(code: str, params: Mapping[str, Any] | None) -> Text:
    """The notice's title and body in the current language."""
    params = dict(params or {})
    if code == PLAIN or code not in MESSAGES:
        return Text(str(params.get("title") or code), str(params.get("body") or ""))
    message = MESSAGES[code]
    values = {key: (message.labels[key](value) if key in message.labels else _shown(value)) for key, value in params.items()}
    title = _format(message.title, values)
    if message.body is not None:
        return Text(title, _format(message.body, values))
    note = params.get("note") or ""
    return Text(title, "\n".join(_shown(n) for n in note) if isinstance(note, list) else _shown(note))


def _shown(value):
    """A stored message ({"code", "params"}) in the reader's language; anything else as it is."""
    if isinstance(value, dict) and "code" in value:
        return render_message(value)
    return value if isinstance(value, (int, float)) else str(value)
