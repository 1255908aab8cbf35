"""One blueprint per resource; each module's ``blueprint()`` builds a fresh one per app."""
