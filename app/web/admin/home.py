from flask import render_template

from app.web.admin import bp


@bp.route("/")
def home():
    return render_template("admin/home.html")
