"""Campaigns that sell ahead of stock, one line per module:

- presale, presale_release, presale_reports: presale (预售) campaigns, orders, release, balance window, pages' reads.
"""
