"""Card payments exactly once: one idempotency key per attempt, from the tap to the ledger."""
