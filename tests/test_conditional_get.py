"""Revalidation across seconds: the CSRF token Flask-WTF signs into a page carries the second it
was signed, so the same page asked again a second later must still get its 304 (the token in
the copy the browser kept stays valid: WTF_CSRF_TIME_LIMIT = None)."""
import itsdangerous.timed


def test_a_page_revalidates_a_second_later(login_as, monkeypatch):
    dealer = login_as("dealer")
    first = dealer.get("/dealer/orders")
    signed_at = itsdangerous.timed.TimestampSigner.get_timestamp
    monkeypatch.setattr(itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: signed_at(self) + 5)
    again = dealer.get("/dealer/orders", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    monkeypatch.undo()
    # The forms in the copy the browser kept still post (a 304 brings no new token).
    response = dealer.post("/locale", {"locale": "en", "next": "/dealer/orders"})
    assert response.status_code in (302, 303)
