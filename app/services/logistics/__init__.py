"""Carrier tracking: the carriers we know (config CARRIERS), their signed callbacks, polling a
carrier through an adapter, the tracking events of shipments, and sign-off by a carrier's proof
of delivery.

Rules:
- A callback is authentic when X-Carrier-Signature is hex HMAC-SHA256 with the carrier's secret
  over "<X-Carrier-Timestamp>.<raw body>" and the timestamp is within 5 minutes.
- An event names a waybill; it belongs to the shipment with that tracking number whose carrier
  is the carrier's code or name. Events of no shipment are ignored (counted, not stored).
- An event is stored once: carrier + waybill + event code + time is unique (a repeated callback
  or a poll that sees it again adds nothing, and does nothing else).
- A NEW `delivered` event signs the order off (method carrier, nothing short or damaged) only when
  the order's seller trusts that carrier's proof of delivery (CarrierTrust, set by the dealer on
  its carriers page) and the order is fully shipped; otherwise it is shown only, and the buyer
  or the delivery code signs as before.
"""
