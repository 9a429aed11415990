"""Approval: the brand's automatic approval rules, the review queue, and the order-cycle report that measures them."""
