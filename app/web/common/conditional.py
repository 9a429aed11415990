"""Conditional GET for pages whose body says everything about them.

`revalidate(response)` gives a 200 HTML answer a weak ETag computed over its body and
`Cache-Control: private, no-cache` (the browser keeps the page but asks every time), and turns
it into a bodiless 304 when the request's If-None-Match already holds that ETag. The page is
still rendered (that is what makes the ETag correct for per-user content); the saving is the
transfer, which is what counts on a 2G line. The CSRF token in the page is stable for the
session (WTF_CSRF_TIME_LIMIT = None), so a revalidated page keeps working forms; its signed
form carries the second it was signed, so the ETag leaves it out. Pages that carry a fresh
one-time value (the checkout's idempotency key) must not use it."""
import hashlib

from flask import Response, g, request


def revalidate(response: Response) -> Response:
    if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.direct_passthrough:
        return response
    response.cache_control.private = True
    response.cache_control.no_cache = True
    body = response.get_data()
    signed_token = g.get("csrf_token")  # Flask-WTF's token for this request, if the page has one
    if signed_token:
        body = body.replace(signed_token.encode(), b"")
    response.set_etag(hashlib.blake2b(body, digest_size=12).hexdigest(), weak=True)
    return response.make_conditional(request)
