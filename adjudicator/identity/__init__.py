"""Who acts: API keys (bound to a console user for staff and admin) and console users."""
