"""The seller's order desk shared by the dealer and brand blueprints (`desk.register_desk`): the
order list, an order's page and decisions, shipping, sign-off and returns; forms in forms.py."""
