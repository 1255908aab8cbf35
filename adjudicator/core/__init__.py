"""The pure decision core: no clock, no database, no network, no Flask.

- :mod:`.contract`: the case document's schemas and checks (the public contract)
- :mod:`.facts`, :mod:`.fact_types`, :mod:`.shipping`, :mod:`.measures`: a case as facts
- :mod:`.rules`: a ruleset version as data: loading, compiling, formulas, static checks
- :mod:`.engine`, :mod:`.actions`, :mod:`.context`: the durable-rules adapter, rule actions
- :mod:`.decide`, :mod:`.decision`: one decision, and its document
- :mod:`.lifecycle`: the claim state machine: one table, its steps and clocks
- :mod:`.money`, :mod:`.dates`, :mod:`.canonical`, :mod:`.errors`: amounts, days, digests
"""
