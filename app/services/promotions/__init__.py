"""Promotions and coupons: the pure pricing function over a cart (engine, with the multi-line
kinds bundle and volume tier in multiline), the per-process index of live promotions (index),
the buyer's earlier quantities for volume tiers (volume), targeting by rep and customer group
and the groups themselves (audience), coupon codes (coupons) and claimable coupons (claims),
budgets and rep/region allocations consumed and released at checkout (redemption), a
promotion's files (files: product list XLSX, coupon codes), and the marketing admin's forms
(admin)."""
