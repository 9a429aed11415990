"""The local sandbox payment provider's pages (it plays the provider's role) and the payment
pages every buyer role mounts (pay an order online, top up the prepayment wallet)."""
