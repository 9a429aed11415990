"""Dealer rebates (返利): what the brand pays a dealer back for what it bought, shipped or paid.

This package owns the rebate agreements, the accruals recorded per source document, the
settlement runs and their approval, the rebate balance (返利账户) with its ledger, and the
rebate-balance lane of the cart quote. Modules: `maths` (tiers, periods: pure), `agreements`
(the brand's form), `accruals` (recording and rebuilding), `settlement` (runs, approval,
posting), `balance` (the ledger), `lane` (the cart lane), `reports` (what the pages show).

The basis of an agreement (one dealer, or every dealer of a tier) over one period (calendar
month, quarter or year in Asia/Shanghai) is the sum of its accruals in that period:
- invoiced: + each brand→dealer invoice's in-scope lines, − each credit note on such an order,
  in proportion to the order's in-scope share (settlement credit notes carry no order and do
  not count);
- payments (回款): + each payment received by transfer, cash on delivery or prepayment, per
  invoice it pays, in proportion to that order's in-scope share (a credit-note "payment" moves
  no money and does not count);
- cases: + in-scope cases of each shipment (gifts excluded), − in-scope cases of each accepted
  return's credit note.
Scope: all products, chosen products or chosen categories; "exclude promoted volume" leaves out
every order line a brand-funded or shared promotion discounted.

The rebate of a period with basis B (fen, or cases), tiers [f0, r0], [f1, r1], … where tier i
holds the half-open interval [f_i, f_{i+1}) and rates r are basis points of the amount (cases
basis: fen per case):
- flat:        B × r / 10000
- retroactive (全额累进): B × r_k / 10000 where f_k ≤ B < f_{k+1} (the tier reached pays on all)
- incremental (超额累进): Σ_i min(max(B − f_i, 0), f_{i+1} − f_i) × r_i / 10000 (each slice its rate)
- per case:    B × per-case fen
rounded half up once (a negative basis earns 0), then capped at the agreement's cap. Below the
first threshold nothing is earned. Example: tiers 0 → 2 %, ¥1,000,000 → 3 %; B = ¥812,000
earns ¥16,240 (retroactive) and the page says "¥812,000 of ¥1,000,000 to reach 3 %".

Settlement pays "earned to date minus already settled": a run as of day D computes, for every
(agreement, dealer, period) with accruals up to D, the rebate of the basis to D, and drafts the
difference from what that period's earlier settlements hold (drafts included). So interim runs
on a yearly agreement are safe, the same run twice drafts nothing new, and a return after a
settlement makes a negative draft: a debit. Approving posts it once (conditional UPDATE):
a credit note brand → dealer, or a credit to the rebate balance; a debit takes back from the
balance what it can and waits (outstanding) for the dealer's next rebate of that payout kind.
"""
