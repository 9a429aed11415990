"""Promotions and coupons: the pure pricing function over a cart (engine), the per-process index
of live promotions (index), coupon codes (coupons), budgets consumed and released at checkout
(redemption), and the marketing admin's forms (admin)."""
