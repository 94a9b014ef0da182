"""Microsoft Bookings (graph-reference §14): one business, its services and staff, customers, appointments."""
