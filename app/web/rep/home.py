from flask import render_template

from app.web.rep import bp


@bp.route("/")
def home():
    return render_template("rep/home.html")
