from flask_babel import lazy_gettext as _l
from app.web.common.forms import Form
from wtforms import HiddenField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(Form):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=40)])
    password = PasswordField(_l("密码"), validators=[DataRequired(), Length(max=200)])
    next = HiddenField()


class ChangePasswordForm(Form):
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired()])
    new_password = PasswordField(_l("新密码"), validators=[DataRequired(), Length(min=8, max=200)])
    confirm = PasswordField(_l("确认新密码"), validators=[
        DataRequired(), EqualTo("new_password", message=_l("两次输入的密码不一致。"))])


class LocaleForm(Form):
    locale = SelectField(_l("语言"), choices=[SelectChoice("zh", "简体中文"), SelectChoice("en", "English")])
    next = HiddenField()
