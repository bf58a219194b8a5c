"""psycopg 3 against a pgconn connection string (tests/drivers.rs).

usage: DRIVER_URL=... python psycopg_check.py whoami|pool

DRIVER_URL is the string exactly as `pgconn url` printed it (uri or keyword);
it holds the password, so it never goes on the command line.
DRIVER_CONNECT_ARGS: JSON keyword arguments for psycopg.connect (what pgconn's
note says to set in code), e.g. {"prepare_threshold": null}.
DRIVER_ROUNDS: transactions per connection in `pool` (default 12).
"""

import json
import os
import sys

import psycopg

URL = os.environ["DRIVER_URL"]
KWARGS = json.loads(os.environ.get("DRIVER_CONNECT_ARGS") or "{}")
ROUNDS = int(os.environ.get("DRIVER_ROUNDS", "12"))
QUERY = "select %s::int + 1, pg_backend_pid()"


def whoami():
    with psycopg.connect(URL, **KWARGS) as conn:
        user = conn.execute("select current_user").fetchone()[0]
    print(f"current_user={user}")


def run(conn, i, pids):
    n, pid = conn.execute(QUERY, (i,)).fetchone()
    assert n == i + 1, (n, i)
    pids.add(pid)


def pool():
    # two connections, a transaction each per round, interleaved: A and B hold a
    # server connection at the same time, so the pooler hands them out in turn;
    # B is one execution ahead, so the two prepare (if they do) in different rounds
    a = psycopg.connect(URL, **KWARGS)
    b = psycopg.connect(URL, **KWARGS)
    pids_a, pids_b = set(), set()
    run(b, -1, pids_b)
    b.commit()
    for i in range(ROUNDS):
        run(a, i, pids_a)
        run(b, i, pids_b)
        a.commit()
        b.commit()
    print(f"prepare_threshold={a.prepare_threshold}")
    print(f"backend_pids_a={len(pids_a)} backend_pids_b={len(pids_b)}")
    print(f"pool ok rounds={ROUNDS}")
    a.close()
    b.close()


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "whoami"
    try:
        {"whoami": whoami, "pool": pool}[mode]()
    except Exception as e:  # the test reads the message
        print(f"error: {type(e).__module__}.{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
