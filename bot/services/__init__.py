"""Domain services: roster, invites, directives, reports, status."""
