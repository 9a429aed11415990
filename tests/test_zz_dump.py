from tests.test_query_budgets import *
def test_dump(retailer, shop, stocked):
    user, org = shop
    products = b.products(3, base_price_fen=2000)
    for p in products:
        stock(stocked, p, 50)
        b.cart_line(user, org, p, 2, quoted=2000)
    db.session.commit()
    form = checkout_form(text(retailer.get("/retailer/cart")))
    db.session.remove()
    with Transactions(db.engine) as t, b.count_queries() as counter:
        response = retailer.post("/retailer/cart/checkout", form)
    for s in counter.statements: print("STMT", s[:230].replace("\n"," "))
    print("N", len(counter), "TX", t.count)
