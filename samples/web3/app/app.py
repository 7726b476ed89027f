#!/usr/bin/python3
# app.py — the web3 sample's application server (samples/web3/README.md, "The application's
# HTTP API"): answers HTTP by writing and reading rows in PostgreSQL. CFM puts this file on every
# app VM (the OVF's `app-server` template) and starts it with the VM's address; the database it
# uses is `db.primary` of the app.properties CFM renders (`jdbc:postgresql://HOST:PORT/DB`).
#   app.py --listen ADDR --port PORT --properties FILE
# POST /rows (body: text) -> 201 {"id": N} once committed; GET /rows/N -> 200 {"id", "value"} or
# 404; GET /health -> 200 "ok" when the database answers. Connections are pooled across the
# server's threads and made again after a failure (the database may be promoted elsewhere and the
# file re-rendered: SIGHUP or a changed file makes it read the file again and drop the old pool).
import argparse
import json
import os
import re
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg2

MAX_BODY = 64 * 1024


class Settings:
    def __init__(self, path):
        self.path = path
        self.mtime = None
        self.dsn = None
        self.lock = threading.Lock()
        self.generation = 0

    def current(self):
        """The DSN from the properties file, read again when the file changed."""
        with self.lock:
            try:
                mtime = os.stat(self.path).st_mtime_ns
            except OSError:
                return self.dsn, self.generation
            if mtime != self.mtime:
                self.mtime = mtime
                props = {}
                with open(self.path, encoding="utf-8") as f:
                    for line in f:
                        line = line.strip()
                        if line and not line.startswith("#") and "=" in line:
                            k, v = line.split("=", 1)
                            props[k.strip()] = v.strip()
                m = re.match(r"jdbc:postgresql://([^:/]+):(\d+)/(\w+)", props.get("db.primary", ""))
                if m:
                    dsn = "host=%s port=%s dbname=%s user=postgres connect_timeout=3" % m.groups()
                    if dsn != self.dsn:
                        self.dsn = dsn
                        self.generation += 1
            return self.dsn, self.generation


SETTINGS = None
POOL = []  # idle connections (generation, connection): server threads come and go per client
POOL_LOCK = threading.Lock()
POOL_MAX = 16


def fresh_connection(dsn):
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    return conn


def close_quietly(conn):
    try:
        conn.close()
    except Exception:
        pass


def with_db(fn):
    """Runs fn(cursor) on a pooled connection to the current database; a broken connection is
    dropped and the call tried once more on a new one."""
    dsn, gen = SETTINGS.current()
    if dsn is None:
        raise RuntimeError("no db.primary in " + SETTINGS.path)
    for attempt in (0, 1):
        conn = None
        with POOL_LOCK:
            while POOL and conn is None:
                g, c = POOL.pop()
                if g == gen and not c.closed:
                    conn = c
                else:
                    close_quietly(c)
        try:
            if conn is None:
                conn = fresh_connection(dsn)
            with conn.cursor() as c:
                result = fn(c)
            with POOL_LOCK:
                if len(POOL) < POOL_MAX:
                    POOL.append((gen, conn))
                    conn = None
            if conn is not None:
                close_quietly(conn)
            return result
        except psycopg2.OperationalError:
            if conn is not None:
                close_quietly(conn)
            if attempt == 1:
                raise


def ensure_table():
    with_db(lambda c: c.execute("CREATE TABLE IF NOT EXISTS rows (id bigserial PRIMARY KEY, value text NOT NULL)"))


TABLE_READY = [None]


def ensure_table_once():
    """CREATE TABLE IF NOT EXISTS for each database generation (a promoted standby has it)."""
    _, gen = SETTINGS.current()
    if TABLE_READY[0] != gen:
        ensure_table()
        TABLE_READY[0] = gen


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # headers and body go out in two writes: with Nagle's algorithm the second waits for the
    # peer's delayed ACK (40 ms a request)
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # no access log on stderr
        pass

    def answer(self, status, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def fail(self, status, message):
        self.answer(status, json.dumps({"error": message}) + "\n")

    def do_GET(self):
        try:
            if self.path == "/health":
                with_db(lambda c: c.execute("SELECT 1"))
                return self.answer(200, "ok\n", "text/plain")
            m = re.fullmatch(r"/rows/(\d+)", self.path)
            if not m:
                return self.fail(404, "no such resource")
            row_id = int(m.group(1))

            def read(c):
                c.execute("SELECT value FROM rows WHERE id = %s", (row_id,))
                return c.fetchone()

            ensure_table_once()
            row = with_db(read)
            if row is None:
                return self.fail(404, "no row %d" % row_id)
            self.answer(200, json.dumps({"id": row_id, "value": row[0]}) + "\n")
        except Exception as e:  # the database is away: the client sees 503 and retries
            self.fail(503, str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__)

    def do_POST(self):
        try:
            if self.path != "/rows":
                return self.fail(404, "no such resource")
            n = int(self.headers.get("Content-Length") or 0)
            if n < 0 or n > MAX_BODY:
                return self.fail(413, "body over %d bytes" % MAX_BODY)
            value = self.rfile.read(n).decode("utf-8", "replace")

            def write(c):
                c.execute("INSERT INTO rows (value) VALUES (%s) RETURNING id", (value,))
                return c.fetchone()[0]

            ensure_table_once()
            row_id = with_db(write)
            self.answer(201, json.dumps({"id": row_id}) + "\n")
        except Exception as e:
            self.fail(503, str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__)


def main():
    global SETTINGS
    p = argparse.ArgumentParser(description="the web3 sample's application server")
    p.add_argument("--listen", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--properties", required=True)
    a = p.parse_args()
    SETTINGS = Settings(a.properties)
    signal.signal(signal.SIGHUP, lambda *_: setattr(SETTINGS, "mtime", None))
    ThreadingHTTPServer.daemon_threads = True
    server = ThreadingHTTPServer((a.listen, a.port), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.serve_forever()


if __name__ == "__main__":
    main()
