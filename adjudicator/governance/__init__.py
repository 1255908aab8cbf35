"""Rules governance: the active version, replays (impact reports) and gated activation."""
