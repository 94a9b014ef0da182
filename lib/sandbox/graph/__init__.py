"""The sandbox's Microsoft Graph surface: online meetings, virtual appointments, `$batch`."""
