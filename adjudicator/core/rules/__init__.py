"""A ruleset version as data: the model, the loader, the condition compiler, formulas and checks."""
