"""Online payments: payment intents, the provider interface and its implementations (the local
sandbox, WeChat Pay API v3), notifications and refunds.

Written rules (the credit services post the money; nothing here changes a balance by hand):
- An ORDER intent pays what is unpaid on the order's invoice (the order must be invoiced, i.e.
  shipped; before that the buyer tops up the prepayment wallet instead). A smaller amount is a
  partial payment. Many intents may be open for one order; each is paid at most once.
- A provider's notification marks its intent paid EXACTLY ONCE (a conditional UPDATE from
  created/failed; a duplicate or late notification changes nothing). Money the provider says
  arrived is never ignored: `paid` wins over an earlier `failed`, and a `failed` notification
  after `paid` is ignored. A notification whose signature, amount or intent does not check out
  is refused (4xx) and logged, and changes nothing.
- Posting a paid ORDER intent: `record_payment` (method online) settles the order's invoice up
  to what it still owes; whatever exceeds that (the invoice was settled meanwhile by another
  payment) is a prepayment top-up, so no money is lost. A paid TOPUP intent is a prepayment
  top-up with the seller (a retailer's dealer, a dealer's brand).
- A refund (seller side, up to what is paid and not yet refunded) gives back first what is still
  in the wallet from this intent (a reversing `refund` entry of the wallet), then the rest as a
  credit note (reason adjustment, source `refund:<reference>`) paid out at once (nothing left
  on it), so open invoices are not touched. The statement shows the refund as a debit line.
"""
