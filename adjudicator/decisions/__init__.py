"""Decisions: decide and store a case, override a decision, read decisions back."""
