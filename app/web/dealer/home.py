from flask import render_template

from app.web.dealer import bp


@bp.route("/")
def home():
    return render_template("dealer/home.html")
