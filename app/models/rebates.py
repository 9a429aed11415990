"""Dealer rebates (返利): agreements, the accruals their source documents record, settlement runs
and their settlements, and the rebate balance (返利账户) with its append-only ledger.

The maths and the rules are written in app/services/rebates/ (package docstring)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String,
                        UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from flask_babel import lazy_gettext as _l

from app.models.base import Base, UTCDateTime, utcnow
from app.models.vocabulary import Vocabulary, _labelled


class RebatePeriod(Vocabulary):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class RebateBasis(Vocabulary):
    INVOICED = "invoiced"   # invoices issued, net of the credit notes on those orders
    CASES = "cases"         # cases shipped, net of cases returned
    PAYMENTS = "payments"   # money received (回款)


class RebateScope(Vocabulary):
    ALL = "all"
    PRODUCTS = "products"
    CATEGORIES = "categories"


class RebateMode(Vocabulary):
    FLAT = "flat"                 # one rate on everything
    RETROACTIVE = "retroactive"   # 全额累进: the tier reached applies to the whole total
    INCREMENTAL = "incremental"   # 超额累进: each tier's rate applies to its slice only
    PER_CASE = "per_case"         # a fixed amount per case (cases basis)


class RebatePayout(Vocabulary):
    CREDIT_NOTE = "credit_note"
    BALANCE = "balance"


class AgreementStatus(Vocabulary):
    DRAFT = "draft"
    ACTIVE = "active"
    ENDED = "ended"


class RebateSettlementStatus(Vocabulary):
    DRAFT = "draft"
    APPROVED = "approved"


_labelled(RebatePeriod, {RebatePeriod.MONTH: _l("月度"), RebatePeriod.QUARTER: _l("季度"), RebatePeriod.YEAR: _l("年度")})
_labelled(RebateBasis, {RebateBasis.INVOICED: _l("开票金额（扣除红字）"), RebateBasis.CASES: _l("发货箱数"),
                        RebateBasis.PAYMENTS: _l("回款金额")})
_labelled(RebateScope, {RebateScope.ALL: _l("全部商品"), RebateScope.PRODUCTS: _l("指定商品"),
                        RebateScope.CATEGORIES: _l("指定品类")})
_labelled(RebateMode, {RebateMode.FLAT: _l("固定比例"), RebateMode.RETROACTIVE: _l("全额累进"),
                       RebateMode.INCREMENTAL: _l("超额累进"), RebateMode.PER_CASE: _l("每箱固定金额")})
_labelled(RebatePayout, {RebatePayout.CREDIT_NOTE: _l("红字冲抵"), RebatePayout.BALANCE: _l("返利账户")})
_labelled(AgreementStatus, {AgreementStatus.DRAFT: _l("草稿"), AgreementStatus.ACTIVE: _l("生效"),
                            AgreementStatus.ENDED: _l("已结束")})
_labelled(RebateSettlementStatus, {RebateSettlementStatus.DRAFT: _l("待审批"),
                                   RebateSettlementStatus.APPROVED: _l("已批准入账")})

REBATE_VOCABULARY = {cls.__name__: cls for cls in (RebatePeriod, RebateBasis, RebateScope, RebateMode, RebatePayout,
                                                   AgreementStatus, RebateSettlementStatus)}


class RebateAgreement(Base):
    """One dealer's agreement, or every dealer of a tier (`dealer_id` xor `dealer_tier`).
    `rate_bp` (flat mode) and the tiers' rates are in basis points of the amount (1 % = 100 bp);
    on the cases basis a tier's rate is fen per case. `tiers` = [[from, rate], ...] ascending:
    tier i holds [from_i, from_{i+1}). `balance_share_pct`: the most of one replenishment order
    the rebate balance may pay (balance payout)."""

    __tablename__ = "rebate_agreements"
    __table_args__ = (
        CheckConstraint("(dealer_id IS NULL) <> (dealer_tier IS NULL)", name="audience"),
        CheckConstraint("period IN ('month', 'quarter', 'year')", name="period"),
        CheckConstraint("basis IN ('invoiced', 'cases', 'payments')", name="basis"),
        CheckConstraint("scope IN ('all', 'products', 'categories')", name="scope"),
        CheckConstraint("mode IN ('flat', 'retroactive', 'incremental', 'per_case')", name="mode"),
        CheckConstraint("payout IN ('credit_note', 'balance')", name="payout"),
        CheckConstraint("status IN ('draft', 'active', 'ended')", name="status"),
        CheckConstraint("balance_share_pct BETWEEN 0 AND 100", name="share"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    dealer_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    dealer_tier: Mapped[str | None] = mapped_column(String(10))
    period: Mapped[str] = mapped_column(String(10))
    basis: Mapped[str] = mapped_column(String(10))
    scope: Mapped[str] = mapped_column(String(12), default=RebateScope.ALL.value)
    product_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    category_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    exclude_promoted: Mapped[bool] = mapped_column(Boolean, default=False)
    mode: Mapped[str] = mapped_column(String(12))
    rate_bp: Mapped[int] = mapped_column(Integer, default=0)
    tiers: Mapped[list[list[int]]] = mapped_column(JSON, default=list)
    per_case_fen: Mapped[int] = mapped_column(Integer, default=0)
    cap_fen: Mapped[int | None] = mapped_column(BigInteger)
    payout: Mapped[str] = mapped_column(String(12), default=RebatePayout.CREDIT_NOTE.value)
    balance_share_pct: Mapped[int] = mapped_column(Integer, default=0)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default=AgreementStatus.DRAFT.value, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    dealer = relationship("Organisation")


class RebateAccrual(Base):
    """What one source document adds to (or, negative, takes from) an agreement's basis for one
    dealer in one period: fen on the money bases, cases on the cases basis. One row per
    (agreement, dealer, document): recording a document twice changes nothing."""

    __tablename__ = "rebate_accruals"
    __table_args__ = (
        UniqueConstraint("agreement_id", "dealer_id", "source_kind", "source_id"),
        CheckConstraint("source_kind IN ('invoice', 'credit_note', 'payment', 'shipment')", name="source_kind"),
        Index("ix_rebate_accruals_period", "agreement_id", "dealer_id", "period_start"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("rebate_agreements.id", ondelete="CASCADE"))
    dealer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    occurred_on: Mapped[date] = mapped_column(Date)  # business date, Asia/Shanghai
    source_kind: Mapped[str] = mapped_column(String(12))
    source_id: Mapped[int] = mapped_column(Integer)
    source_ref: Mapped[str] = mapped_column(String(30), default="")
    base_value: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RebateRun(Base):
    """One settlement run "as of" a day (inclusive): unique per day, so running it again finds
    this row. `finished_at` unset while a pass runs (or after its worker died)."""

    __tablename__ = "rebate_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    passes: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    settlements: Mapped[list["RebateSettlement"]] = relationship(
        back_populates="run", order_by="(RebateSettlement.dealer_id, RebateSettlement.agreement_id)")


class RebateSettlement(Base):
    """What a run found due for one (agreement, dealer, period): `earned_fen` the rebate earned to
    the run's day, `settled_before_fen` what earlier settlements of that period hold (drafts
    included), `amount_fen` the difference (negative: a debit). Approval posts it: `posted_fen`
    went out (credit note or balance); a debit not yet recovered waits in `outstanding_fen`
    (negative) and is netted against the dealer's next rebate of the same payout."""

    __tablename__ = "rebate_settlements"
    __table_args__ = (
        # at most one draft per (run, agreement, dealer, period): a pass after an approval drafts anew
        Index("uq_rebate_settlements_draft", "run_id", "agreement_id", "dealer_id", "period_start", unique=True,
              postgresql_where=text("status = 'draft'"), sqlite_where=text("status = 'draft'")),
        CheckConstraint("status IN ('draft', 'approved')", name="status"),
        CheckConstraint("amount_fen <> 0", name="amount"),
        CheckConstraint("outstanding_fen <= 0", name="outstanding"),
        Index("ix_rebate_settlements_period", "agreement_id", "dealer_id", "period_start"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("rebate_runs.id", ondelete="CASCADE"), index=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("rebate_agreements.id"))
    dealer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    base_value: Mapped[int] = mapped_column(BigInteger)
    earned_fen: Mapped[int] = mapped_column(BigInteger)
    settled_before_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    payout: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(10), default=RebateSettlementStatus.DRAFT.value)
    posted_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    outstanding_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    credit_note_id: Mapped[int | None] = mapped_column(ForeignKey("credit_notes.id"))

    run: Mapped[RebateRun] = relationship(back_populates="settlements")
    agreement: Mapped[RebateAgreement] = relationship()
    dealer = relationship("Organisation")
    credit_note = relationship("CreditNote")

    @property
    def number(self) -> str:
        return f"RB{self.id:08d}"


class RebateAccount(Base):
    """A dealer's rebate balance (返利账户). Never negative: every change is one conditional
    UPDATE and the CHECK refuses the rest."""

    __tablename__ = "rebate_accounts"
    __table_args__ = (CheckConstraint("balance_fen >= 0", name="balance"),)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True)
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class RebateLedgerEntry(Base):
    """One movement of a rebate balance (append-only): a settlement credited (+), a debit taken
    back (−), spent on an order (−, `shares` = {order line id: fen}), given back by a cancel,
    reject or return (+). Spending and a full give-back happen once per order (unique)."""

    __tablename__ = "rebate_ledger"
    __table_args__ = (
        CheckConstraint("kind IN ('settlement', 'debit', 'spend', 'give_back', 'return')", name="kind"),
        CheckConstraint("amount_fen <> 0 AND balance_after_fen >= 0", name="amounts"),
        UniqueConstraint("order_id", "kind", "ref"),
        Index("ix_rebate_ledger_dealer", "dealer_id", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    dealer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(12))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    balance_after_fen: Mapped[int] = mapped_column(BigInteger)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    settlement_id: Mapped[int | None] = mapped_column(ForeignKey("rebate_settlements.id"))
    ref: Mapped[str] = mapped_column(String(30), default="")
    shares: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order = relationship("Order")


class RebateCartChoice(Base):
    """The dealer ticked "use my rebate balance" on this cart (owner building for buyer)."""

    __tablename__ = "rebate_cart_choices"
    __table_args__ = (UniqueConstraint("owner_id", "buyer_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
