"""Django's PostgreSQL backend, plus `prepared_cursor()` for statements on the hot path.

Django binds parameters on the client (psycopg's ClientCursor): every statement reaches the server
as new text and is planned again.  For the API key lookup, which runs on every Public API request,
planning costs more than executing (about 0.18 ms against 0.03 ms here).  A cursor from
`prepared_cursor()` binds on the server, so psycopg prepares each of its statements once per
connection (OPTIONS `prepare_threshold`, set by config.settings from DATABASE_PREPARED_STATEMENTS)
and later executions skip parsing and planning.  Everything else keeps Django's client-side
binding, so no ORM query is ever prepared.

Prepared statements belong to a server connection.  Behind PgBouncer in transaction pooling they
need PgBouncer 1.21 or later with `max_prepared_statements` above zero; with an older pooler set
DATABASE_PREPARED_STATEMENTS=0 and the same cursor runs unprepared.
"""

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    _server_binding = False

    def prepared_cursor(self):
        """A Django cursor (connects, health-checks, logs queries, wraps errors as any cursor
        does) whose statements psycopg may prepare."""
        self._server_binding = True
        try:
            return self.cursor()
        finally:
            self._server_binding = False

    def create_cursor(self, name=None):
        if self._server_binding and name is None:
            return base.ServerBindingCursor(self.connection)
        return super().create_cursor(name)
