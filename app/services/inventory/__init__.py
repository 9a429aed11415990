"""Inventory: warehouses, lots, the stock ledger and balances, reservations, transfers,
stocktakes, reorder rules and alerts, ERP sync, reports. Split by responsibility:

ledger        the only code that changes stock numbers (balance + lot + movement, conditional)
allocation    first-expiry-first-out and the customer shelf-life rule
reservations  reserve / release / ship for any document, all or nothing
orders        the interface for the order lifecycle (reserve_order, release_order,
              ship_order_lines, receive_return): see its docstring
operations    receive, adjust, count a lot, write off expired lots, create warehouses
transfers     库存调配 between warehouses of one owner, and suggestions
counts        stocktakes
rules         reorder rules by hand, standard costs, shelf-life rules
safety        reorder rules computed from demand
alerts        the low-stock / near-expiry scan and its notices
sync          ERP / file sync of receipts and levels
reports       turnover, days of supply, stock-out rate
verify        recompute balances from the ledger
scope, queries  who sees what, and the page queries
"""
from app.services.inventory.orders import (ReturnLine, receive_return, release_order, reserve_order,  # noqa: F401
                                           ship_order_lines)
from app.services.inventory.reservations import ShippedLot, Shortage, StockShortage  # noqa: F401
