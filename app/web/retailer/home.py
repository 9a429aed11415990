from flask import render_template

from app.web.retailer import bp


@bp.route("/")
def home():
    return render_template("retailer/home.html")
