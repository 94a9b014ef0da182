"""Sending many appointments: the runner, the journal, results and exports."""
