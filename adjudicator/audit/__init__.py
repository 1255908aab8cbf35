"""The audit log: the hash chain, checkpoints and their signatures, Merkle proofs and
receipts, verification (with the row cross-checks each capability registers), backups."""
