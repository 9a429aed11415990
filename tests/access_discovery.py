"""Finds where ids arrive outside the URL path, for the access matrix (tests/test_access_matrix.py).

A crawl signs in as a role, opens every page of the role's blueprint that takes no URL
parameter, follows the links those pages hold (same blueprint, one page per path and set of
query names) and parses what it renders: every link's query string, every `hx-get` URL, and
every form (action, method, inputs, selects, textareas, hidden fields). What it returns is a
list of `Entry`: one request the page would make, with the names that carry an id."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

# A FieldList entry ("lines-0-line_id") carries the id of its inner field ("line_id").
LIST_ENTRY = re.compile(r"^(?:[a-z_]+-\d+-)+")
# Links not worth following: they leave the session or change state on GET (none should).
SKIP_PATHS = ("/logout",)


# Query names that carry a record's id without saying "_id" ("?rep=7", "?category=3").
BARE_ID_NAMES = {"rep", "category", "customer", "warehouse", "retailer", "dealer", "product", "price_list", "order",
                 "invoice"}


def field_name(name: str) -> str:
    """The name of the kind of id a field carries: "lines-0-line_id" → "line_id", "rep" → "rep_id"."""
    name = LIST_ENTRY.sub("", name)
    return f"{name}_id" if name in BARE_ID_NAMES else name


def is_id_name(name: str) -> bool:
    return field_name(name).endswith("_id")


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)  # (name, value) as a browser sends them
    _select: str | None = None
    _select_first: str | None = None
    _select_chosen: bool = False
    _textarea: str | None = None


class PageParser(HTMLParser):
    """Links (href, hx-get) and forms of one page."""

    def __init__(self, base: str):
        super().__init__(convert_charrefs=True)
        self.base = base
        self.links: list[str] = []
        self.forms: list[Form] = []
        self._form: Form | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "option":
            self._option(a)
            return
        for name in ("href", "hx-get"):
            if a.get(name) and tag != "link":
                self.links.append(urljoin(self.base, a[name]))
        if tag == "form":
            method = (a.get("method") or "get").upper()
            action = a.get("hx-post") or a.get("action") or self.base
            self._form = Form(urljoin(self.base, action), method)
            self.forms.append(self._form)
            return
        form = self._form
        if form is None or not a.get("name") or "disabled" in a:
            return
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            form.fields.append((a["name"], a.get("value") or ("y" if kind == "checkbox" else "")))
        elif tag == "select":
            form._select, form._select_first, form._select_chosen = a["name"], None, False
        elif tag == "textarea":
            form._textarea = a["name"]
            form.fields.append((a["name"], ""))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_data(self, data):
        if self._form is not None and self._form._textarea:
            name, value = self._form.fields[-1]
            self._form.fields[-1] = (name, value + data)

    def handle_endtag(self, tag):
        form = self._form
        if form is None:
            return
        if tag == "textarea":
            form._textarea = None
        elif tag == "select" and form._select:
            if not form._select_chosen and form._select_first is not None:
                form.fields.append((form._select, form._select_first))
            form._select = None
        elif tag == "form":
            self._form = None

    def _option(self, a: dict) -> None:
        """A select sends its selected option, or its first one."""
        form = self._form
        if form is None or not form._select:
            return
        value = a.get("value", "")
        if form._select_first is None:
            form._select_first = value
        if "selected" in a and not form._select_chosen:
            form.fields.append((form._select, value))
            form._select_chosen = True


def parse(base: str, html: str) -> tuple[list[str], list[Form]]:
    parser = PageParser(base)
    parser.feed(html)
    return parser.links, parser.forms


@dataclass(frozen=True)
class Entry:
    """A request a rendered page would make, with the fields that carry ids."""
    method: str
    path: str
    fields: tuple[tuple[str, str], ...]  # query (GET) or form body (POST), as the page holds it
    source: str  # the page it was found on
    kind: str  # "link" or "form"

    def id_names(self) -> list[str]:
        return sorted({name for name, _value in self.fields if is_id_name(name)})

    def with_value(self, name: str, value) -> list[tuple[str, str]]:
        return [(n, str(value) if n == name else v) for n, v in self.fields]

    def url(self, name: str | None = None, value=None) -> str:
        fields = self.with_value(name, value) if name else list(self.fields)
        return f"{self.path}?{urlencode(fields)}" if fields else self.path


def _path_key(url: str) -> tuple[str, tuple[str, ...]]:
    parts = urlsplit(url)
    return parts.path, tuple(sorted({n for n, _v in parse_qsl(parts.query, keep_blank_values=True)}))


def crawl(client, start: list[str], prefix: str, limit: int = 120) -> list[Entry]:
    """Open the start pages and the pages they link to under `prefix`; the entries found."""
    queue, seen, entries = list(start), set(), {}
    while queue and len(seen) < limit:
        url = queue.pop(0)
        key = _path_key(url)
        if key in seen:
            continue
        seen.add(key)
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        links, forms = parse(url, response.get_data(as_text=True))
        for link in links:
            parts = urlsplit(link)
            if parts.netloc not in ("", "localhost") or not parts.path.startswith(prefix) \
                    or parts.path.endswith(SKIP_PATHS):
                continue
            query = tuple(parse_qsl(parts.query, keep_blank_values=True))
            if query:
                entry = Entry("GET", parts.path, query, url, "link")
                entries.setdefault(("GET", parts.path, tuple(n for n, _v in query)), entry)
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
        for form in forms:
            parts = urlsplit(form.action)
            if not parts.path.startswith(prefix) or parts.path.endswith(SKIP_PATHS):
                continue
            fields = tuple(parse_qsl(parts.query, keep_blank_values=True)) + tuple(form.fields)
            entry = Entry(form.method, parts.path, fields, url, "form")
            entries.setdefault((form.method, parts.path, tuple(n for n, _v in fields)), entry)
    return [e for e in entries.values() if e.id_names()]
