"""Campaigns that sell ahead of stock, one module each:

- presale: presale (预售) campaigns, their allocation, deposits and balances (presale_release: release and non-payment).
"""
