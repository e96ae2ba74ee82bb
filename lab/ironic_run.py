"""Start the lab's all-in-one Ironic with sqlite transactions that queue instead of failing.

oslo.db opens sqlite transactions with a deferred BEGIN; when two requests first read and then
write at the same time, sqlite refuses one with "database is locked" at once (no busy wait is
possible for that upgrade). Real deployments use MySQL/PostgreSQL and never see this. Making every
transaction BEGIN IMMEDIATE lets sqlite's busy timeout queue concurrent writers instead, so the lab
behaves like a real database under concurrent clients. Lab only: nothing here ships in modules.
"""
import sys

import sqlalchemy
from oslo_db.sqlalchemy import engines


def _begin_immediate_events(engine, **kw):  # pylint: disable=unused-argument
    @sqlalchemy.event.listens_for(engine, "before_cursor_execute", retval=True)
    def _begin_immediate(conn, cursor, statement, parameters, context, executemany):  # pylint: disable=unused-argument
        if statement == "BEGIN":
            statement = "BEGIN IMMEDIATE"
        return statement, parameters


# _init_events is a multiple dispatcher: every function registered for sqlite runs, oslo.db's first.
engines._init_events.dispatch_for("sqlite")(_begin_immediate_events)  # pylint: disable=protected-access

if __name__ == "__main__":
    from ironic.command.singleprocess import main
    sys.exit(main())
