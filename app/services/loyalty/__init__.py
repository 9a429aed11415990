"""Points (积分) and member tiers of retailers.

Owns: the points settings, each retailer's account (balance and member tier), the append-only
ledger with its expiry lots, earning on delivered orders and clawing back on returns, the cart's
points lane (after the coupon lane) and its consumption at checkout, the points catalog of gift
products, the nightly expiry and tier jobs' work, and what the pages read.

- settings.py: the configured rates, shares, lifetimes, tier thresholds (defaults until saved);
- ledger.py: the one place balances and lots change (conditional UPDATE, FEFO);
- earning.py: earn on sign-off, claw back on a return;
- lane.py: the cart lane (quote, consume at submit, give back on cancel/reject);
- gifts.py: the points catalog and gift claims;
- expiry.py, tiers.py: the nightly jobs' work;
- queries.py: what the retailer, admin and rep pages show.
"""
