"""Where the layers meet in the URL space: the Public API lives under /v1/, the dashboard and
accounts everywhere else.  Middleware on both sides of that line reads it here."""

API_PREFIX = "/v1/"
