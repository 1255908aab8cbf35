"""Rulesets as data: the model, the loader that reads a version folder, and
the compiler that turns rule conditions into durable-rules definitions."""
