"""Tools over the core: the regression runner, impact (replay) analysis, and the rules' own
checks that generate cases (the hit-policy search, mutation testing, the catalogue document)."""
