"""Campaigns that sell ahead of the usual cart: presale (预售) and territory group-buys (团购)."""
