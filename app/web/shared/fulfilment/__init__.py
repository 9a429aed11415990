"""The fulfilment desk shared by the dealer and brand order desks: decisions, shipping, sign-off, returns."""
