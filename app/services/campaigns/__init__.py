"""Campaigns that sell ahead of the usual cart, one line per module:

- presale, presale_release, presale_reports: presale (预售) campaigns, orders, release, balance window, pages' reads;
- groupbuy: territory group-buys (团购): pooled commitments, tiers reached, the close that re-prices.
"""
