"""Prices: the one resolution a customer pays (contract, price lists, quantity breaks), its explanation, and price administration."""
