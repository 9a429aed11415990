"""The campaign form (brand and dealers) and the retailer's commitment form."""
from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, IntegerField, StringField, ValidationError
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from app.services.campaigns.groupbuy import MAX_QTY
from app.services.campaigns.groupbuy_admin import CampaignInput
from app.services.core.clock import LOCAL
from app.web.common.fields import YuanField
from app.web.common.forms import Form

QTY = NumberRange(1, MAX_QTY, message=_l("请输入 1 到 99999 之间的整数。"))


def parse_tiers(text: str | None) -> list[tuple[int, int]] | None:
    """"200:48, 500:45.5" → [(200, 4800), (500, 4550)]; None when a part is not "cases:yuan"."""
    tiers = []
    for part in (text or "").replace("，", ",").replace("：", ":").split(","):
        if not part.strip():
            continue
        qty, _sep, price = part.partition(":")
        try:
            cases, yuan = int(qty.strip()), Decimal(price.strip())
        except (ValueError, InvalidOperation):
            return None
        fen = yuan * 100
        if fen != fen.to_integral_value() or not 0 < cases <= MAX_QTY or not 0 < fen <= 10_000_000:
            return None
        tiers.append((cases, int(fen)))
    return tiers


class CampaignForm(Form):
    name = StringField(_l("名称"), validators=[InputRequired(message=_l("请输入名称（最多 120 字）。")), Length(max=120)])
    product_code = StringField(_l("商品编码"), validators=[InputRequired(message=_l("请输入商品编码。")), Length(max=30)])
    region_code = StringField(_l("区域编码（省、市或县）"), validators=[Optional(), Length(max=12)])
    starts_at = DateTimeLocalField(_l("开始（北京时间）"), format="%Y-%m-%dT%H:%M",
                                   validators=[InputRequired(message=_l("请输入开始时间。"))])
    ends_at = DateTimeLocalField(_l("结束（北京时间）"), format="%Y-%m-%dT%H:%M",
                                 validators=[InputRequired(message=_l("请输入结束时间。"))])
    base_price = YuanField(_l("起始团购价（元/箱）"), validators=[InputRequired(message=_l("请输入起始团购价。"))],
                           render_kw={"inputmode": "decimal"})
    tiers = StringField(_l("价格阶梯（箱数:元/箱）"), validators=[Optional(), Length(max=200)],
                        render_kw={"placeholder": "200:48, 500:45"})
    min_pool_qty = IntegerField(_l("成团数量（箱）"), validators=[InputRequired(message=_l("请输入成团数量。")), QTY])
    cap_qty = IntegerField(_l("可供总量（箱，空：不限）"), validators=[Optional(), QTY])
    min_per_retailer = IntegerField(_l("每店起订（箱）"), default=1, validators=[InputRequired(message=_l("请输入每店起订。")), QTY])
    max_per_retailer = IntegerField(_l("每店限购（箱，空：不限）"), validators=[Optional(), QTY])

    def validate_tiers(self, field) -> None:
        if parse_tiers(field.data) is None:
            raise ValidationError(_("请按“箱数:元/箱”填写，用逗号分隔，例如 200:48, 500:45。"))

    def values(self) -> CampaignInput:
        return CampaignInput(
            name=self.name.data, product_code=self.product_code.data, region_code=self.region_code.data,
            starts_at=self.starts_at.data.replace(tzinfo=LOCAL), ends_at=self.ends_at.data.replace(tzinfo=LOCAL),
            base_price_fen=self.base_price.data, tiers=parse_tiers(self.tiers.data) or [],
            min_pool_qty=self.min_pool_qty.data, cap_qty=self.cap_qty.data,
            min_per_retailer=self.min_per_retailer.data, max_per_retailer=self.max_per_retailer.data)

    def fill(self, campaign) -> None:
        self.name.data, self.product_code.data = campaign.name, campaign.product.code
        self.region_code.data = campaign.region.code if campaign.region_id else ""
        self.starts_at.data = campaign.starts_at.astimezone(LOCAL).replace(tzinfo=None)
        self.ends_at.data = campaign.ends_at.astimezone(LOCAL).replace(tzinfo=None)
        self.base_price.data = campaign.base_price_fen
        self.tiers.data = ", ".join(f"{t.min_qty}:{Decimal(t.unit_price_fen) / 100:f}" for t in campaign.tiers)
        self.min_pool_qty.data, self.cap_qty.data = campaign.min_pool_qty, campaign.cap_qty
        self.min_per_retailer.data, self.max_per_retailer.data = campaign.min_per_retailer, campaign.max_per_retailer


class CommitForm(Form):
    qty = IntegerField(_l("我的认购（箱）"), validators=[InputRequired(message=_l("请输入箱数。")), QTY],
                       render_kw={"inputmode": "numeric"})
