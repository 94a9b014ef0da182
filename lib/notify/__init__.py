"""Telling clients: their own join link by email with an `.ics` invitation, and calendar files to download."""
