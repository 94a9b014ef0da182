"""The spreadsheet pipeline: read -> match columns -> read cells -> schedule -> check."""
