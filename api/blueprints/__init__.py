"""One blueprint per resource: each module's ``blp``, its views declared at import.

A blueprint is a recipe, not state: ``api.create_app`` registers the same
``blp`` on every app it builds, and each app gets its own routes and document.
"""
