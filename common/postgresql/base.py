"""Django's PostgreSQL backend, plus a path for the one statement every Public API request runs.

Django binds parameters on the client (psycopg's ClientCursor): every statement reaches the server
as new text and is planned again.  For the API key lookup, which runs on every Public API request,
planning costs more than executing (about 0.18 ms against 0.03 ms here).  A cursor from
`prepared_cursor()` binds on the server, so psycopg prepares its statements once per connection
(OPTIONS `prepare_threshold`, set by config.settings from DATABASE_PREPARED_STATEMENTS) and later
executions skip parsing and planning.  Everything else keeps Django's client-side binding, so no
ORM query is ever prepared.

Prepared statements belong to a server connection.  Behind PgBouncer in transaction pooling they
need PgBouncer 1.21 or later with `max_prepared_statements` above zero; with an older pooler set
DATABASE_PREPARED_STATEMENTS=0 and the same cursor runs unprepared.
"""

from typing import Any

from django.db import InterfaceError, OperationalError
from django.db.backends.postgresql import base

# Django's psycopg cursor that binds on the server (the stubs declare it without its psycopg base).
ServerBindingCursor: Any = base.ServerBindingCursor


class DatabaseWrapper(base.DatabaseWrapper):
    _server_binding = False
    _hot_cursor: Any = None
    # Set by Django (connect(), close_if_unusable_or_obsolete()); missing from the stubs.
    health_check_enabled: bool
    health_check_done: bool

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
            return ServerBindingCursor(self.connection)
        return super().create_cursor(name)

    def fetchone_prepared(self, sql: str, params: list) -> tuple | None:
        """The first row of a prepared read-only statement, which doubles as the request's
        connection health check (CONN_HEALTH_CHECKS).

        Django checks a reused connection with a `SELECT 1` before the first statement of each
        request: one more round trip on every request.  When that check is due and no transaction
        is open, this statement is the check instead: if the server dropped the connection
        (failover, restart, pg_terminate_backend) the statement fails, the connection is replaced
        and the statement runs once more on the new one, as the check would have arranged.  A
        read runs twice at worst, so nothing is done twice.
        """
        check_due = (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and not self.in_atomic_block
        )
        if check_due:
            self.health_check_done = True
            try:
                return self._fetchone_prepared(sql, params)
            except (OperationalError, InterfaceError):
                if self.connection is not None and not self.connection.broken:
                    raise  # the connection is fine: the statement itself failed
                self.close()
        return self._fetchone_prepared(sql, params)

    def _fetchone_prepared(self, sql: str, params: list) -> tuple | None:
        if self.queries_logged or self.execute_wrappers:
            # Logged (DEBUG, assertNumQueries) or wrapped (connection.execute_wrapper): through
            # Django's cursor wrapper, like any statement.
            with self.prepared_cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchone()
        # Otherwise one psycopg cursor kept per connection, with Django's error translation: the
        # wrapper and a new cursor per call cost about as much as executing the prepared lookup.
        self.close_if_health_check_failed()
        self.ensure_connection()
        self.validate_no_broken_transaction()
        cursor = self._hot_cursor
        if cursor is None or cursor.connection is not self.connection:
            with self.wrap_database_errors:
                cursor = self._hot_cursor = ServerBindingCursor(self.connection)
        with self.wrap_database_errors:
            cursor.execute(sql, params)
            return cursor.fetchone()
