"""The access matrix: every route of the role blueprints (admin, dealer, retailer, rep), found in
app.url_map when the tests are collected, so a new route is checked the day it is added:

- anonymous callers are sent to /login?next=... (POSTs too, or refused for lack of a CSRF token);
- every other role gets 403 (POSTs carry a valid CSRF token, so the 403 is the role guard's);
- a URL parameter filled with a record of ANOTHER organisation of the same role gives 404 (or
  403) and shows nothing of it; admin routes are brand-wide, so there the admin without any
  permission (admin_b) gets 403 everywhere but the few pages any admin may open;
- blueprints that several roles share (MULTI_ROLE_BLUEPRINTS, e.g. order documents) get the
  anonymous and other-organisation checks for each role that uses them;
- every role opens its own pages that take no parameter;
- every POST anywhere without a CSRF token is refused with 400, htmx requests included.

A route with a URL parameter the matrix does not know FAILS: register a builder below."""
from urllib.parse import parse_qs, urlsplit

from werkzeug.datastructures import MultiDict

import pytest

from app import create_app
from app.extensions import db
from tests import builders_access as b
from tests.conftest import Client

ROLES = ("admin", "dealer", "retailer", "rep")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")

# URL parameter name → builder of a record owned by the other organisation of the role under
# test (see tests/builders_access.py). One line per parameter name.
BUILDERS = {
    "order_id": b.other_order,
    "line_id": b.other_order_line,
    "item_id": b.other_price_list_item,
    "product_id": b.other_product,
    "category_id": b.a_category,
    "price_list_id": b.other_price_list,
    "contract_id": b.other_contract,
    "user_id": b.other_user,
    "route_id": b.other_route,
    "retailer_id": b.other_retailer,
    "dealer_id": b.other_dealer,
    "customer_id": b.other_customer,
    "warehouse_id": b.other_warehouse,
    "lot_id": b.other_lot,
    "transfer_id": b.other_transfer,
    "rule_id": b.other_visibility_rule,
    "batch_id": b.other_batch,
    "invoice_id": b.other_invoice,
    "document_id": b.other_document,
    "count_id": b.other_count,
    "notification_id": b.other_notification,
    "return_id": b.other_return,
    "promotion_id": b.other_promotion,
    "settlement_id": b.other_settlement,
    "run_id": b.a_settlement_run,
    "tier": b.literal("A"),
    "gift_id": b.a_points_gift,
    "agreement_id": b.other_rebate_agreement,
    "campaign_id": b.other_groupbuy,
    "group_id": b.other_customer_group,
    "reference": b.other_payment_intent,
    "presale_item_id": b.a_presale_item,
    "presale_order_id": b.other_presale_order,
    "kind": b.literal("invoice"),
    "kind_key": b.literal("products"),
    "fmt": b.literal("csv"),
}

# Where a name means another record on some pages: (word in the endpoint, parameter) → builder.
CONTEXT_BUILDERS = {
    ("cart", "line_id"): b.other_cart_line,
    ("cart", "item_id"): b.other_cart_line,
    ("rebate", "settlement_id"): b.other_rebate_settlement,
    ("presale", "campaign_id"): b.a_presale_campaign,
    ("groupbuy_shops", "campaign_id"): b.other_served_groupbuy,
}

# Parameters that name no organisation's record: the role may legitimately open any of them, so
# they take no part in the other-organisation check.
SHARED_PARAMS = {
    "category_id": "categories are the brand's, the same for everyone",
    "kind_key": "an import/export kind, not a record",
    "fmt": "a file format",
    "kind": "a document kind",
    "gift_id": "the points catalog is the brand's, the same for every retailer",
    "presale_item_id": "presale campaigns are the brand's, offered to every retailer",
    "tier": "a dealer tier (A/B/C or the default row) of the brand's promotion limits, not a record",
}

# Blueprints several roles use, and who is checked there against the other side's records
# ("admin_b" is the admin without permissions).
MULTI_ROLE_BLUEPRINTS = {
    "documents": ("dealer", "retailer", "rep", "admin_b"),
}

# Admin pages any admin may open, whatever their permissions (admin_b has none).
ANY_ADMIN = {
    "admin.home": "the landing page after sign-in",
    "admin.audit_log": "every admin may read the audit trail",
    "admin.notifications_list": "notifications are addressed to each admin personally",
    "admin.notifications_badge": "the unread count in every admin's header",
    "admin.notifications_read": "marking one's own notification read",
    "admin.notifications_read_all": "marking one's own notifications read",
}


def _rules() -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(endpoint, rule, method, parameter names) for every route, from a throwaway app's url_map."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI="sqlite://", REDIS_URL=None)
    found = []
    for rule in app.url_map.iter_rules():
        for method in sorted(set(rule.methods) & set(METHODS)):
            found.append((rule.endpoint, rule.rule, method, tuple(sorted(rule.arguments))))
    return sorted(found, key=lambda r: (r[1], r[2]))


ALL_RULES = _rules()


def blueprint(endpoint: str) -> str:
    return endpoint.split(".", 1)[0]


def owns_records(args) -> bool:
    return any(a not in SHARED_PARAMS for a in args)


def checked(endpoint: str, method: str) -> bool:
    bp = blueprint(endpoint)
    return bp in ROLES or bp in MULTI_ROLE_BLUEPRINTS or (method in UNSAFE and bp not in ("api", "assets"))


# One test per route and method (each test pays for a fresh database, so the checks share one).
ROUTES = [pytest.param(e, r, m, id=f"{m} {r}") for e, r, m, args in ALL_RULES if checked(e, m)]


def builder_for(endpoint: str, name: str):
    for (word, param), builder in CONTEXT_BUILDERS.items():
        if param == name and word in endpoint:
            return builder
    return BUILDERS.get(name)


def build_url(app, world, endpoint: str, rule_text: str, method: str, role: str) -> tuple[str, b.Other]:
    """The rule's URL with every parameter filled by a record of the other side of `role`."""
    [rule] = [r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == rule_text]
    other = b.Other(world, role, endpoint)
    values = {}
    for name in sorted(rule.arguments):
        builder = builder_for(endpoint, name)
        if builder is None:
            pytest.fail(
                f"{endpoint} ({rule_text}) takes the URL parameter {name!r}, which the access matrix does "
                f"not know. Register it in BUILDERS in tests/test_access_matrix.py: one line mapping "
                f"{name!r} to a function (tests/builders_access.py) that creates a record owned by the "
                f"other organisation of the role and returns it, or add it to SHARED_PARAMS if it names "
                f"no organisation's record.")
        try:
            record = builder(other)
        except Exception as error:  # noqa: BLE001 - turned into a message for the developer
            pytest.fail(f"the builder for {name!r} (needed by {endpoint}) failed: {error!r}. Update it in "
                        f"tests/builders_access.py to the model as it is now.")
        values[name] = getattr(record, "id", record)
    db.session.commit()
    return app.url_map.bind("localhost").build(endpoint, values, method=method), other


def send(client: Client, method: str, url: str, csrf: bool = True, htmx: bool = False):
    if method == "GET":
        return client.hx_get(url) if htmx else client.get(url)
    if method == "POST":
        return client.post(url, csrf=csrf, htmx=htmx)
    if client.csrf is None:
        client.get("/login")
    data = {"csrf_token": client.csrf} if csrf else {}
    return client.request(method, url, data=data, headers={"HX-Request": "true"} if htmx else {})


def leaked(response, other: b.Other) -> list[str]:
    body = response.get_data(as_text=True)
    return sorted(s for s in other.secrets if s in body)


def is_login_redirect(response, url: str) -> bool:
    if response.status_code not in (302, 303):
        return False
    location = urlsplit(response.headers["Location"])
    return location.path == "/login" and parse_qs(location.query).get("next") == [url]


class Matrix:
    """The checks for one route and method; each adds what it finds wrong to `problems`."""

    def __init__(self, app, world, login_as, endpoint, rule, method):
        self.app, self.world, self.login_as = app, world, login_as
        self.endpoint, self.rule, self.method = endpoint, rule, method
        self.args = next(args for e, r, m, args in ALL_RULES if (e, r, m) == (endpoint, rule, method))
        self.owner = blueprint(endpoint)
        self.problems: list[str] = []
        self._clients: dict[str, Client] = {}

    def client(self, user: str) -> Client:
        if user not in self._clients:
            self._clients[user] = self.login_as(user)
        return self._clients[user]

    def url(self, role: str) -> tuple[str, b.Other]:
        return build_url(self.app, self.world, self.endpoint, self.rule, self.method, role)

    def expect(self, ok: bool, message: str) -> None:
        if not ok:
            self.problems.append(message)

    def anonymous_is_sent_to_login(self) -> None:
        url, _ = self.url(self.owner if self.owner in ROLES else "retailer")
        client = Client(self.app)
        if self.method == "GET":
            response = send(client, "GET", url)
            self.expect(is_login_redirect(response, url),
                        f"anonymous GET: {response.status_code} {response.headers.get('Location')}, not /login?next=")
            response = send(client, "GET", url, htmx=True)
            self.expect(response.status_code == 204 and response.headers.get("HX-Redirect", "").startswith(
                "/login?next="), f"anonymous htmx GET: {response.status_code}, no HX-Redirect to /login")
            return
        response = send(client, self.method, url, csrf=False)
        self.expect(response.status_code == 400, f"anonymous {self.method} without CSRF: {response.status_code}")
        response = send(client, self.method, url)
        self.expect(is_login_redirect(response, url), f"anonymous {self.method}: {response.status_code}")

    def other_roles_are_forbidden(self) -> None:
        url, other = self.url(self.owner)
        for role in ROLES:
            if role != self.owner:
                response = send(self.client(role), self.method, url)
                self.expect(response.status_code == 403 and not leaked(response, other),
                            f"{role}: {response.status_code} {leaked(response, other)}, expected 403")

    def other_organisations_records_are_not_found(self, users) -> None:
        for user in users:
            url, other = self.url(user.removesuffix("_b"))
            for htmx in (False, True):
                response = send(self.client(user), self.method, url, htmx=htmx)
                self.expect(response.status_code in (403, 404),
                            f"{user} reached another organisation's record at {url} (htmx={htmx}): "
                            f"{response.status_code}")
                self.expect(not leaked(response, other), f"{user} sees {leaked(response, other)} at {url}")

    def admin_without_permissions(self) -> None:
        url, _ = self.url("admin")
        response = send(self.client("admin_b"), self.method, url)
        if self.endpoint in ANY_ADMIN:
            self.expect(response.status_code in (200, 204, 302, 303), f"any admin may use it: {response.status_code}")
        else:
            self.expect(response.status_code == 403, f"admin_b (no permissions): {response.status_code}, expected 403")

    def own_page_opens(self) -> None:
        url, _ = self.url(self.owner)
        for htmx in (False, True):
            response = send(self.client(self.owner), "GET", url, htmx=htmx)
            self.expect(response.status_code in (200, 302, 303),
                        f"{self.owner} cannot open its own page (htmx={htmx}): {response.status_code}")

    def csrf_token_is_required(self) -> None:
        role = self.owner if self.owner in ROLES else "admin"
        url, _ = self.url(role)
        client = self.client(role)
        for htmx in (False, True):  # htmx: no X-CSRFToken header either
            response = send(client, self.method, url, csrf=False, htmx=htmx)
            self.expect(response.status_code == 400, f"{self.method} without a CSRF token (htmx={htmx}): "
                                                     f"{response.status_code}, expected 400")
        self.expect(client.get(f"/{role}/").status_code == 200, "the CSRF-less request changed the session")

    def run(self) -> list[str]:
        signed_in_only = self.owner in ROLES or self.owner in MULTI_ROLE_BLUEPRINTS
        if signed_in_only:
            self.anonymous_is_sent_to_login()
        if self.owner in ROLES:
            self.other_roles_are_forbidden()
        if self.owner == "admin":
            self.admin_without_permissions()
        elif owns_records(self.args):
            users = (self.owner,) if self.owner in ROLES else MULTI_ROLE_BLUEPRINTS.get(self.owner, ())
            self.other_organisations_records_are_not_found(users)
        if self.owner in ROLES and self.method == "GET" and not self.args:
            self.own_page_opens()
        if self.method in UNSAFE:
            self.csrf_token_is_required()
        return self.problems


# --- the matrix ---------------------------------------------------------------------------------

def test_the_matrix_sees_every_role_blueprint():
    seen = {blueprint(e) for e, r, m, args in ALL_RULES}
    assert set(ROLES) <= seen
    assert len(ROUTES) >= 4


def test_the_common_admin_pages_exist():
    """Keeps ANY_ADMIN honest: a renamed page must be renamed there too."""
    assert set(ANY_ADMIN) <= {e for e, r, m, args in ALL_RULES}


@pytest.mark.parametrize("endpoint, rule, method", ROUTES)
def test_access(app, world, login_as, endpoint, rule, method):
    problems = Matrix(app, world, login_as, endpoint, rule, method).run()
    assert not problems, f"{method} {rule} ({endpoint}):\n  " + "\n  ".join(problems)


# --- ids in query strings and form fields ------------------------------------------------------
#
# Path ids are not the only way an id reaches a view: filters, selects and hidden inputs carry
# them too. For every role, a crawl (tests/access_discovery.py) opens the role's pages, follows
# their links and reads their forms; each field or query name that carries an id (`*_id`) is
# then sent with a record of ANOTHER organisation (the same builders as path ids). The answer must
# be a 404 (or 403), or the form again with an error (400/422/409), and show nothing of it.
# Admins see the whole brand, so on admin pages the id is one that exists nowhere.

# Field and query names that name the same kind of record as a BUILDERS parameter.
FIELD_ALIASES = {
    "source_id": "warehouse_id",
    "dest_id": "warehouse_id",
    "rep_id": "user_id",
}
MISSING_ID = 987_654_321
# Id fields that are searches, not references to a record of the caller's organisation.
FREE_FIELDS = {
    "entity_id": "the admin audit trail's search by record number (any record of the brand, or none)",
}


def own_records(world) -> None:
    """Something on every page of the _a side, so its forms and links hold ids."""
    from app.models import Invoice
    from tests import builders_stock as s
    from tests import factories

    product = factories.product(code="OWNSKU")
    dealer, retailer = world.orgs["dealer"], world.orgs["retailer"]
    warehouse = s.warehouse(dealer, world.regions["hz"], is_default=True)
    s.warehouse(dealer, world.regions["hz"])
    s.warehouse(world.brand, world.regions["hz"], is_default=True)
    s.stock(warehouse, product, 50)
    for n, (buyer, seller, qty) in enumerate(((retailer, dealer, 1), (dealer, world.brand, 2))):
        order = s.order(buyer, seller, {product: qty})
        db.session.add(Invoice(number=f"OWNINV{n}", order_id=order.id, seller_id=seller.id, buyer_id=buyer.id,
                               total_fen=100 * qty, tax_fen=0))
    db.session.commit()


def foreign_value(other: b.Other, name: str):
    key = FIELD_ALIASES.get(name, name)
    if key in SHARED_PARAMS:
        return None
    builder = builder_for(other.endpoint, key)
    if builder is None:
        pytest.fail(f"a page of {other.role} sends the id field {name!r}, which the access matrix does not know: "
                    f"map it in FIELD_ALIASES (or BUILDERS) in tests/test_access_matrix.py")
    record = builder(other)
    db.session.commit()
    return getattr(record, "id", record)


def id_field_problems(app, world, login_as, role: str) -> tuple[list[str], int]:
    from tests.access_discovery import crawl, field_name

    own_records(world)
    client = login_as(role)
    start = [app.url_map.bind("localhost").build(e) for e, r, m, args in ALL_RULES
             if blueprint(e) == role and m == "GET" and not args]
    entries = crawl(client, start, prefix=f"/{role}/")
    problems, tried = [], 0
    for entry in entries:
        for name in entry.id_names():
            if field_name(name) in FREE_FIELDS:
                continue
            other = b.Other(world, role, entry.path)
            value = MISSING_ID if role == "admin" else foreign_value(other, field_name(name))
            if value is None:
                continue
            tried += 1
            if entry.method == "GET":
                url = entry.url(name, value)
                for htmx in (False, True):
                    response = send(client, "GET", url, htmx=htmx)
                    if response.status_code not in (400, 403, 404, 422) or leaked(response, other):
                        problems.append(f"GET {url} (htmx={htmx}, {entry.kind} on {entry.source}): "
                                        f"{response.status_code} {leaked(response, other)}")
            else:
                data = MultiDict(entry.with_value(name, value))
                response = client.request(entry.method, entry.path, data=data)
                if response.status_code not in (400, 403, 404, 409, 422) or leaked(response, other):
                    problems.append(f"{entry.method} {entry.path} {name}={value} (form on {entry.source}): "
                                    f"{response.status_code} {leaked(response, other)}")
    return problems, tried


@pytest.mark.parametrize("role", ("dealer", "retailer", "rep", "admin"))
def test_ids_in_query_strings_and_form_fields_are_scoped(app, world, login_as, role):
    problems, tried = id_field_problems(app, world, login_as, role)
    assert tried, f"the crawl found no id in any query string or form field of the {role} pages"
    assert not problems, f"{role}: another organisation's id accepted:\n  " + "\n  ".join(problems)
