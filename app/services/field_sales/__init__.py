"""Sales reps in the field: the route of the day, a retailer's card, visits, ordering on a shop's behalf, monthly targets."""
