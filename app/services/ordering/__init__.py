"""Ordering: carts and their quote, exactly-once checkout, routing to the seller, the order lifecycle, and dealer replenishment."""
