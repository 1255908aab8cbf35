"""Claims over time: open and act (the lifecycle's side effects), read, the console queue,
the claim timers, money reconciliation and the order ledger as a claim's reader sees it."""
