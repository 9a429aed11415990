"""Group-buy pages: the brand's and the dealers' campaign desk (forms.py, manage.py) and the
retailer's phone page with the live pool (retailer.py). Rules live in services/campaigns."""
