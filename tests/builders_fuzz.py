"""Discovery and mutation for the bad-input fuzz test (tests/test_fuzz_inputs.py).

Pages are found like the access matrix finds routes: every GET route of a role's blueprint
without URL parameters (from app.url_map), plus one URL per endpoint linked from those pages
(detail pages of the role's own records). Forms are read from the rendered HTML with the
standard library's parser: method, action, and every named control with its current value."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

# One sample value per class of bad input (the classes), not every combination.
CONTROL_VALUES = ("a\x00b", "\x1b[2J", "x\x7f\x08y")
HUGE_INTS = ("100000000000000000000", "-99999999999999999999", "2147483648")
CORRUPT_XLSX = b"PK\x03\x04\x14\x00\x00\x00\x08\x00not really a workbook" + b"\x00" * 64

TEXT_TYPES = {"text", "search", "password", "hidden", "email", "tel", "url", "textarea", "date", "month", None}


@dataclass
class Control:
    name: str
    kind: str  # input type, "select", "textarea"
    value: str = ""
    options: list[str] = field(default_factory=list)

    @property
    def numeric(self) -> bool:
        if self.kind == "number":
            return True
        if self.kind == "select":
            values = [o for o in self.options if o]
            return bool(values) and all(re.fullmatch(r"-?\d+", o) for o in values)
        return self.kind == "hidden" and bool(re.fullmatch(r"\d+", self.value or "")) and self.name != "csrf_token"


@dataclass
class FoundForm:
    page: str
    method: str
    action: str
    controls: list[Control] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def key(self) -> tuple:
        return (self.method, re.sub(r"\d+", "N", urlsplit(self.action).path),
                tuple(sorted({c.name for c in self.controls} | set(self.files))))

    def baseline(self) -> dict[str, str]:
        """The form as a person would send it: rendered values, and "1" where a field is empty
        (so the one bad value is not hidden behind an empty required field)."""
        values: dict[str, str] = {}
        for control in self.controls:
            if control.kind in ("checkbox", "radio") and control.name in values:
                continue
            if control.kind == "select":
                value = control.value or next((o for o in control.options if o), "")
            else:
                value = control.value or ("" if control.name == "csrf_token" else "1")
            values[control.name] = value
        return values

    def mutable(self) -> list[Control]:
        seen, result = set(), []
        for control in self.controls:
            if control.name not in seen and control.name != "csrf_token" and control.kind not in ("submit", "button"):
                seen.add(control.name)
                result.append(control)
        return result


class FormParser(HTMLParser):
    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[FoundForm] = []
        self.links: list[str] = []
        self._form: FoundForm | None = None
        self._select: Control | None = None
        self._textarea: Control | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"])
        if tag == "form":
            action = a.get("action") or a.get("hx-post") or a.get("hx-get") or self.page
            method = (a.get("method") or ("post" if a.get("hx-post") else "get")).upper()
            self._form = FoundForm(self.page, method, action)
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind == "file":
                self._form.files.append(name)
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self._form.controls.append(Control(name, kind, a.get("value", "on")))
                else:
                    self._form.controls.append(Control(name, kind, a.get("value", "on")))
            else:
                self._form.controls.append(Control(name, kind, a.get("value") or ""))
        elif tag == "select" and name:
            self._select = Control(name, "select")
            self._form.controls.append(self._select)
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select.options.append(value)
            if "selected" in a:
                self._select.value = value
        elif tag == "textarea" and name:
            self._textarea = Control(name, "textarea")
            self._form.controls.append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def parse_page(url: str, html: str) -> tuple[list[FoundForm], list[str]]:
    parser = FormParser(url)
    parser.feed(html)
    return parser.forms, parser.links


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def mutations(form: FoundForm):
    """(label, values, files) to send: each field alone with a bad value of its class, then
    every field at once."""
    base = form.baseline()
    for n, control in enumerate(form.mutable()):
        bad = HUGE_INTS[n % len(HUGE_INTS)] if control.numeric else CONTROL_VALUES[n % len(CONTROL_VALUES)]
        yield control.name, {**base, control.name: bad}, {}
    if len(form.mutable()) > 1:
        i = len(form.mutable()) % 3  # another sample of each class than the single-field ones mostly use
        values = dict(base)
        for control in form.mutable():
            values[control.name] = HUGE_INTS[i] if control.numeric else CONTROL_VALUES[i]
        yield "all fields", values, {}
    if form.files:
        yield "corrupt xlsx", base, {name: CORRUPT_XLSX for name in form.files}
