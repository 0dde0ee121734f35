"""The HTTP ceiling: a bare Falcon app on waitress with the service's settings and pool.

`python -m tests.benchmarks.bare_api --database URL --port P` serves
`GET /json` (a small document), `GET /select/{key}` (one SELECT by primary key) and
`POST /insert` (one INSERT and COMMIT), through the same datastore pool the service uses.
"""

from __future__ import annotations

import argparse
import itertools
import os

import falcon
from waitress import serve

from journeys.wiring import build


class Json:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"id": "journey_x", "status": "ACTIVE", "stepsCount": 6}


class Select:
    def __init__(self, database: object) -> None:
        self.database = database

    def on_get(self, req: falcon.Request, resp: falcon.Response, key: str) -> None:
        row = self.database.query_one("SELECT * FROM bench_kv WHERE id = ?", (key,))  # type: ignore[attr-defined]
        if row is None:
            raise falcon.HTTPNotFound()
        resp.media = row


class Insert:
    def __init__(self, database: object) -> None:
        self.database = database
        self.ids = itertools.count()
        self.prefix = f"{os.getpid()}-"

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        with self.database.transaction() as cursor:  # type: ignore[attr-defined]
            cursor.execute("INSERT INTO bench_kv (id, doc) VALUES (?, ?)",
                           (self.prefix + str(next(self.ids)), "x" * 300))
        resp.status = falcon.HTTP_201
        resp.media = {"ok": True}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    services = build(args.database)
    database = services.database
    app = falcon.App()
    app.add_route("/json", Json())
    app.add_route("/select/{key}", Select(database))
    app.add_route("/insert", Insert(database))
    serve(app, host="127.0.0.1", port=args.port, threads=args.threads, _quiet=True)


if __name__ == "__main__":
    main()
