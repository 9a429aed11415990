"""Fulfilment after approval: the seller's desk, shipping in parts, delivery sign-off, returns, and what happened to each line."""
