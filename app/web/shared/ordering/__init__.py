"""The ordering counter: catalog add, cart lines and checkout, shared by retailer, rep and dealer replenishment."""
