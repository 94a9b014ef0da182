"""Outlook mail and calendar (§15): sendMail, drafts, send, folders, events; the mailbox concurrency gate."""
