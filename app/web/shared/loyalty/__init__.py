"""What the points lane adds to the shared ordering counter: whether the buyer ticked "use
points" (a GET argument of the cart page, a hidden field of the checkout form)."""
