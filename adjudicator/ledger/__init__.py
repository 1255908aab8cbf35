"""The order ledger: one cap account per order, holds, payouts and releases."""
