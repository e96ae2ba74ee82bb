"""sqlite transactions that queue instead of failing, for the lab's Ironic and Neutron processes.

oslo.db opens sqlite transactions with a deferred BEGIN; two requests that first read and then
write at once make sqlite refuse one with "database is locked" (no busy wait is possible for that
upgrade). BEGIN IMMEDIATE lets sqlite's busy timeout queue concurrent writers instead, as MySQL or
PostgreSQL would. Lab only: nothing here ships in modules.
"""


def install():
    """Register the BEGIN IMMEDIATE hook on every sqlite engine oslo.db makes from now on."""
    import sqlalchemy  # pylint: disable=import-outside-toplevel
    from oslo_db.sqlalchemy import engines  # pylint: disable=import-outside-toplevel

    def _events(engine, **kw):  # pylint: disable=unused-argument
        @sqlalchemy.event.listens_for(engine, "before_cursor_execute", retval=True)
        def _begin(conn, cursor, statement, parameters, context, executemany):  # pylint: disable=unused-argument
            if statement == "BEGIN":
                statement = "BEGIN IMMEDIATE"
            return statement, parameters

    # _init_events is a multiple dispatcher: every function registered for sqlite runs, oslo.db's first.
    engines._init_events.dispatch_for("sqlite")(_events)  # pylint: disable=protected-access
