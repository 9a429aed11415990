"""Services never import the jobs (they enqueue them by dotted name through app.queue) and never
build URLs (a notice stores its subject; the web layer makes links)."""
import pathlib
import re

import pytest

SERVICES = pathlib.Path(__file__).resolve().parent.parent / "app" / "services"
FILES = sorted(SERVICES.rglob("*.py"))
FORBIDDEN = {
    "imports jobs": re.compile(r"^\s*(import jobs\b|from jobs\b)", re.M),
    "builds URLs": re.compile(r"url_for|url_map"),
    "imports the web layer": re.compile(r"^\s*(import app\.web\b|from app\.web\b|from app import web\b)", re.M),
}


def test_the_walk_sees_the_service_packages():
    assert len(FILES) > 50 and any(p.name == "lifecycle.py" for p in FILES)


@pytest.mark.parametrize("rule", sorted(FORBIDDEN))
def test_no_service_module(rule):
    offenders = [str(p.relative_to(SERVICES)) for p in FILES if FORBIDDEN[rule].search(p.read_text(encoding="utf-8"))]
    assert offenders == [], f"services that {rule}: {offenders}"
