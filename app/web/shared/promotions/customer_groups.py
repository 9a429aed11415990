"""Customer groups (客户组) that promotions target, kept by the brand's marketing admins: the list
with member counts and a form to create one, and an edit page; members are typed as customer
codes. The service (services/promotions/audience.py) checks, saves, audits."""
from __future__ import annotations

from flask import Blueprint, flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.services.promotions import audience
from app.web.common.envelope import attempt
from app.web.common.forms import Form
from app.web.common.htmx import redirect_to, render_page


class CustomerGroupForm(Form):
    code = StringField(_l("编号"), validators=[InputRequired(message=_l("请输入编号。")), Length(max=30)])
    name = StringField(_l("名称"), validators=[InputRequired(message=_l("请输入名称（最多 80 字）。")), Length(max=80)])
    members = TextAreaField(_l("成员（客户编码，逗号或换行分隔）"), validators=[Optional(), Length(max=100_000)],
                            render_kw={"rows": 4})

    def codes(self) -> list[str]:
        text = (self.members.data or "").replace("，", ",").replace("\n", ",")
        return [c.strip() for c in text.split(",") if c.strip()]


def register_customer_group_pages(bp: Blueprint, guard) -> None:
    def page(template, form, status=200, **context):
        return render_page(template, status=status, layout="admin/layout.html", endpoint=bp.name, form=form,
                           **context)

    def save(form, group_id):
        if form.validate_on_submit():
            outcome = attempt(form, audience.save_group, current_user, form.code.data, form.name.data, form.codes(),
                              group_id)
            if outcome.ok:
                flash(_("客户组 %(code)s 已保存。", code=outcome.result.code), "success")
                return redirect_to(url_for(f"{bp.name}.customer_groups"))
            return outcome.status
        return 400

    def customer_groups():
        guard()
        return page("shared/promotions/customer_groups.html", CustomerGroupForm(formdata=None),
                    groups=audience.groups_with_counts())

    def customer_group_create():
        guard()
        form = CustomerGroupForm()
        result = save(form, None)
        if not isinstance(result, int):
            return result
        return page("shared/promotions/customer_groups.html", form, result, groups=audience.groups_with_counts())

    def customer_group_edit(group_id: int):
        guard()
        row = audience.group(group_id)
        form = CustomerGroupForm(formdata=None)
        form.code.data, form.name.data = row.code, row.name
        form.members.data = ", ".join(audience.member_codes(row))
        return page("shared/promotions/customer_group_edit.html", form, group=row)

    def customer_group_update(group_id: int):
        guard()
        row = audience.group(group_id)
        form = CustomerGroupForm()
        result = save(form, row.id)
        if not isinstance(result, int):
            return result
        return page("shared/promotions/customer_group_edit.html", form, result, group=audience.group(group_id))

    bp.add_url_rule("/customer-groups", "customer_groups", customer_groups)
    bp.add_url_rule("/customer-groups", "customer_group_create", customer_group_create, methods=["POST"])
    bp.add_url_rule("/customer-groups/<int:group_id>/edit", "customer_group_edit", customer_group_edit)
    bp.add_url_rule("/customer-groups/<int:group_id>/edit", "customer_group_update", customer_group_update,
                    methods=["POST"])
