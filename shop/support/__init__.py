"""Support: tickets linked to orders, answered from the moderator chat (see tickets.py)."""
