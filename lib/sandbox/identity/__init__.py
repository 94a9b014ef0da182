"""The sandbox's Microsoft identity platform: discovery, token and device-code endpoints."""
