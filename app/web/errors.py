"""Error pages: small, translated, and fragments for htmx requests."""
from flask import Flask, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

MESSAGES = {
    400: _l("请求无效。"),
    403: _l("您没有权限访问此页面。"),
    404: _l("页面不存在。"),
    405: _l("不支持此操作。"),
    413: _l("上传的文件太大。"),
    429: _l("尝试次数过多，请稍后再试。"),
}


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        message = str(MESSAGES[error.code]) if error.code in MESSAGES else error.description
        return render_template("errors.html", code=error.code, message=message), error.code

    @app.errorhandler(500)
    def server_error(error):
        return render_template("errors.html", code=500, message=_("服务器出错，请稍后再试。")), 500
