"""Credit and money owed: limits and the credit check, invoices, payments, the prepayment wallet, credit notes, statements."""
