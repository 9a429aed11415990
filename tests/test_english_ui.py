"""The English UI shows no Chinese outside data.

Every role (admin, dealer, retailer, rep) signs in, switches the UI to English and opens every GET
page of its blueprint found in app.url_map (as tests/test_access_matrix.py finds routes), URL
parameters filled with the role's own records of a lived-in world (tests/builders_english.py:
made through the services in Chinese, so stored messages were written by a Chinese actor). The
visible text of each HTML page (text nodes and the attributes people read) must hold no CJK
character once the data is taken out: every string stored in the database by people (names,
addresses, product names, typed notes...), never the columns the system writes its own messages
into. A page that leaks fails the test with the offending snippets, page by page."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import JSON, String, Text, select

from app.extensions import db
from app.models import Base
from app.services.dataio import importing
from app.services.inventory import sync
from tests import builders_access as b
from tests import builders_english
from tests import factories
from tests.test_access_matrix import ALL_RULES, BUILDERS, CONTEXT_BUILDERS, ROLES

CJK = re.compile(r"[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]+")

# Columns the system writes its own text into (or used to, before messages were stored as codes):
# whatever CJK they hold is not data and must not be shown to an English reader. Free text a
# person typed into the mixed ones is listed in builders_english.TYPED instead.
SYSTEM_TEXT = {
    "order_events.note", "order_review_reasons.message", "order_lines.price_reason", "stock_movements.reason",
    "credit_notes.note", "audit_events.before", "audit_events.after",
}
# Import batches keep the file's raw cells (data) next to the problems found (messages).
JSON_MESSAGE_KEYS = {"errors", "messages"}
# The language switch names each language in itself.
LANGUAGE_NAMES = ("简体中文", "中文")
# Stored messages each role must see in English somewhere (so the world really has them).
SEEN_IN_ENGLISH = {
    "admin": ("Auto-approval", "Awaiting manual review", "Insufficient stock:", "Missing required field", "Base price"),
    "dealer": ("Auto-approval", "Awaiting manual review", "Remaining quantity cancelled", "Base price"),
    "retailer": ("Auto-approval", "Base price"),
    "rep": ("Base price",),
}
# Attributes whose text a person reads.
VISIBLE_ATTRIBUTES = {"title", "placeholder", "alt", "aria-label", "label"}


def file_headers() -> set[str]:
    """Import files may use the Chinese column headers (the exports write them): the import pages
    and their messages name them as a file must spell them."""
    headers = {column.header for kind in importing.KINDS.values() for column in kind.columns}
    return headers | set(sync.HEADER_ALIASES)


class VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1
        values = dict(attrs)
        for name, value in attrs:
            shown = name in VISIBLE_ATTRIBUTES or (name == "value" and values.get("type") in ("submit", "button"))
            if value and shown:
                self.chunks.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.chunks.append(data)


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.chunks


def _json_strings(value, into: set[str]) -> None:
    if isinstance(value, str):
        into.add(value)
    elif isinstance(value, list):
        for item in value:
            _json_strings(item, into)
    elif isinstance(value, dict):
        if "code" in value and "params" in value:  # a stored message: only its parameters are data
            _json_strings(value["params"], into)
            return
        for key, item in value.items():
            if key not in JSON_MESSAGE_KEYS:
                _json_strings(item, into)


def data_strings() -> list[str]:
    """Every CJK-bearing string the database holds as data, longest first."""
    found: set[str] = set(builders_english.TYPED)
    system_text = SYSTEM_TEXT
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.columns
                   if f"{table.name}.{c.name}" not in system_text and isinstance(c.type, (String, Text, JSON))]
        if not columns:
            continue
        for row in db.session.execute(select(*columns)):
            for column, value in zip(columns, row):
                if isinstance(column.type, JSON):
                    _json_strings(value, found)
                elif isinstance(value, str):
                    found.add(value)
    return sorted((s for s in found if CJK.search(s)), key=len, reverse=True)


def leaks(html: str, data: list[str], url: str) -> list[str]:
    found = []
    if "import" in url:  # the import pages name the Chinese column headers a file may use
        data = sorted(set(data) | file_headers(), key=len, reverse=True)
    for chunk in visible_text(html):
        if not CJK.search(chunk):
            continue
        text = chunk
        for value in data:
            if value in text:
                text = text.replace(value, " ")
        for name in LANGUAGE_NAMES:
            text = text.replace(name, " ")
        if CJK.search(text):
            found.append(" ".join(chunk.split())[:160])
    return found


def swapped(world: factories.World) -> factories.World:
    """The world seen from the other side, so tests/builders_access.py's builders of the *_b
    records make records of the signed-in side."""
    def flip(d):
        return {(k[:-2] if k.endswith("_b") else f"{k}_b") if (k.endswith("_b") or f"{k}_b" in d) else k: v
                for k, v in d.items()}
    regions = dict(world.regions, cd=world.regions["hz"], hz=world.regions["cd"])
    return factories.World(world.brand, regions, flip(world.orgs), flip(world.users))


def page_urls(app, world, role: str, own: dict) -> list[str]:
    """Every GET page of the role's blueprint, its parameters filled with the role's records (each
    of the role's orders for an order page)."""
    urls = []
    adapter = app.url_map.bind("localhost")
    for endpoint, rule, method, args in ALL_RULES:
        if method != "GET" or not endpoint.startswith(f"{role}."):
            continue
        other = b.Other(swapped(world), role, endpoint)
        choices = {}
        for name in args:
            mine = own.get(name) or []
            if isinstance(mine, dict):
                mine = mine.get(role) or []
            builder = next((bd for (word, param), bd in CONTEXT_BUILDERS.items() if param == name and word in endpoint),
                           BUILDERS.get(name))
            assert mine or builder, f"{endpoint}: no value for the URL parameter {name!r}"
            made = [builder(other)] if builder else []
            choices[name] = list(mine) + [getattr(record, "id", record) for record in made]
        db.session.commit()
        if len(args) == 1:
            [name] = args
            urls += [adapter.build(endpoint, {name: value}) for value in choices[name]]
        else:
            urls.append(adapter.build(endpoint, {name: values[0] for name, values in choices.items()}))
    return urls


def upload_import_with_errors(login_as) -> int:
    """An admin who reads Chinese uploads a product file with mistakes (the batch keeps them)."""
    from tests.builders_imports import PRODUCT_HEADERS_ZH, batch_id_from, csv_bytes, upload

    rows = [PRODUCT_HEADERS_ZH, ["EN-1", "123", "NOPE", "", "", "", "箱", "x", "1", "1", "365", "13", "在售",
                                 "2024-13-01", ""]]
    response = upload(login_as("admin"), "products", csv_bytes(rows), "bad.csv")
    assert response.status_code in (302, 303), response.status_code
    return batch_id_from(response)


@pytest.mark.parametrize("role", ROLES)
def test_the_english_ui_shows_no_chinese_outside_data(app, world, login_as, role):
    own = builders_english.build(world)
    own["batch_id"] = {"admin": [upload_import_with_errors(login_as)]}
    client = login_as(role)
    client.post("/locale", {"locale": "en", "next": f"/{role}/"})
    urls = page_urls(app, world, role, own)
    data = data_strings()
    problems, opened, seen = [], 0, []
    for url in urls:
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        opened += 1
        html = response.get_data(as_text=True)
        assert 'lang="en"' in html, url
        seen.append(html)
        found = leaks(html, data, url)
        if found:
            problems.append(f"{url}:\n    " + "\n    ".join(dict.fromkeys(found)))
    assert opened >= 5, f"only {opened} pages opened for {role}"
    missing = [phrase for phrase in SEEN_IN_ENGLISH[role] if not any(phrase in html for html in seen)]
    assert not missing, f"{role} never sees these stored messages in English: {missing}"
    assert not problems, (f"Chinese in the English UI ({role}, {len(problems)} of {opened} pages):\n"
                          + "\n".join(problems))
