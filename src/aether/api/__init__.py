"""HTTP API: app factory, one router per area, authentication and account-scope dependencies."""
