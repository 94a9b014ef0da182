"""The one appointment model and the flows as request specs (what is sent, decided in one place)."""
