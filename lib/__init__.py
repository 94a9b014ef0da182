"""Appointment Studio: Teams virtual appointments from spreadsheets, through Microsoft Graph."""
