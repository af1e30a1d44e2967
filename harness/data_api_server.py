"""A Data API test server on 127.0.0.1: answers the JSON commands astrapy 2.x sends (keyspace and
collection commands), with the Data API's response shapes and error format, and can inject faults
(HTTP 5xx / 429, slow answers). Test code only: never a default."""

from __future__ import annotations

import contextlib
import copy
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PAGE_SIZE = 20  # documents per find page, as the Data API
COUNT_LIMIT = 1000  # countDocuments counts exactly up to this many
Doc = dict[str, Any]


class CommandError(Exception):
    def __init__(self, code: str, message: str, *, scope: str = "", family: str = "REQUEST"):
        super().__init__(message)
        self.body = {
            "message": message,
            "errorCode": code,
            "id": str(uuid.uuid4()),
            "family": family,
            "scope": scope,
            "title": code.replace("_", " ").capitalize(),
        }


def _get(doc: Doc, path: str) -> tuple[bool, Any]:
    node: Any = doc
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


_OPERATORS: dict[str, Callable[[bool, Any, Any], bool]] = {
    "$eq": lambda present, value, arg: present and value == arg,
    "$ne": lambda present, value, arg: not present or value != arg,
    "$in": lambda present, value, arg: present and value in arg,
    "$nin": lambda present, value, arg: not present or value not in arg,
    "$gt": lambda present, value, arg: present and value is not None and value > arg,
    "$gte": lambda present, value, arg: present and value is not None and value >= arg,
    "$lt": lambda present, value, arg: present and value is not None and value < arg,
    "$lte": lambda present, value, arg: present and value is not None and value <= arg,
    "$exists": lambda present, value, arg: present == bool(arg),
}


def _match_value(present: bool, value: Any, condition: Any) -> bool:
    if not (
        isinstance(condition, dict) and condition and all(k.startswith("$") for k in condition)
    ):
        return present and value == condition
    for op, arg in condition.items():
        if op not in _OPERATORS:
            raise CommandError("INVALID_FILTER_EXPRESSION", f"Unsupported filter operator '{op}'")
        if not _OPERATORS[op](present, value, arg):
            return False
    return True


def matches(doc: Doc, filter: Doc) -> bool:
    for key, condition in filter.items():
        if key == "$and":
            if not all(matches(doc, f) for f in condition):
                return False
        elif key == "$or":
            if not any(matches(doc, f) for f in condition):
                return False
        elif not _match_value(*_get(doc, key), condition):
            return False
    return True


def _paths(filter: Doc) -> list[str]:
    paths: list[str] = []
    for key, condition in filter.items():
        if key in ("$and", "$or"):
            for f in condition:
                paths += _paths(f)
        else:
            paths.append(key)
    return paths


class _Collection:
    def __init__(self, options: Doc) -> None:
        self.options = options
        self.docs: dict[Any, Doc] = {}
        self.cached: tuple[str, list[Doc]] | None = None  # last scan, dropped on every write
        allow = (options.get("indexing") or {}).get("allow")
        deny = (options.get("indexing") or {}).get("deny")
        self.allow = None if allow is None or "*" in allow else set(allow)
        self.deny = set(deny or [])

    def indexed(self, path: str) -> bool:
        if path == "_id":
            return True
        root = path.split(".")[0]
        if self.allow is not None:
            return path in self.allow or root in self.allow
        return path not in self.deny and root not in self.deny


class DataApiServer:
    """Start with :meth:`start`; ``endpoint`` and ``token`` are what the store needs."""

    def __init__(
        self,
        *,
        token: str = "AstraCS:test-token",
        keyspaces: tuple[str, ...] = ("default_keyspace",),
    ) -> None:
        self.token = token
        self._keyspaces: dict[str, dict[str, _Collection]] = {k: {} for k in keyspaces}
        self._lock = threading.RLock()
        self._faults: list[dict[str, Any]] = []
        self.calls: list[tuple[str, str, Doc]] = []
        self.created: list[tuple[str, str]] = []  # (keyspace, collection) each time one is made
        self._port = 0
        self._open: set[socket.socket] = set()  # connections being served (HTTP keep-alive)

    # --- life cycle and test controls ------------------------------------------------------

    def start(self) -> DataApiServer:
        """Serve on a free port; after :meth:`stop`, on the same port again, with the same
        documents (the database was unreachable, and is back)."""
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out without a 40 ms ACK wait

            def setup(self) -> None:
                super().setup()
                with server._lock:
                    server._open.add(self.connection)

            def finish(self) -> None:
                with server._lock:
                    server._open.discard(self.connection)
                super().finish()

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload = server._handle(self.path, self.headers.get("Token"), raw)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", self._port), Handler)
        self._httpd.daemon_threads = True
        self._port = self._httpd.server_address[1]
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening and drop the connections kept alive: nothing answers any more."""
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            open_now, self._open = list(self._open), set()
        for conn in open_now:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def fail_next(
        self, count: int, *, status: int = 503, commands: tuple[str, ...] | None = None
    ) -> None:
        """The next ``count`` matching requests answer HTTP ``status`` with an error body."""
        with self._lock:
            self._faults.append({"left": count, "status": status, "commands": commands})

    def delay_next(
        self, count: int, seconds: float, *, commands: tuple[str, ...] | None = None
    ) -> None:
        """The next ``count`` matching requests are answered only after ``seconds``."""
        with self._lock:
            self._faults.append({"left": count, "delay": seconds, "commands": commands})

    def together(self, count: int, *, commands: tuple[str, ...]) -> None:
        """The next ``count`` matching requests are each answered as things are when it comes,
        but sent only once all ``count`` have come: clients that race each other for certain."""
        with self._lock:
            self._faults.append(
                {"left": count, "together": threading.Barrier(count), "commands": commands}
            )

    def documents(self, keyspace: str, collection: str) -> list[Doc]:
        with self._lock:
            return copy.deepcopy(list(self._keyspaces[keyspace][collection].docs.values()))

    # --- requests ----------------------------------------------------------------------------

    def _fault(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            for fault in self._faults:
                if fault["left"] > 0 and (fault["commands"] is None or name in fault["commands"]):
                    fault["left"] -= 1
                    return dict(fault)
        return None

    def _handle(self, path: str, token: str | None, raw: bytes) -> tuple[int, Doc]:
        try:
            body = json.loads(raw or b"{}")
            name, command = next(iter(body.items()))
        except (ValueError, StopIteration):
            return 400, {"errors": [CommandError("INVALID_REQUEST", "Request invalid").body]}
        with self._lock:
            self.calls.append((path, name, command))
        fault = self._fault(name)
        if fault and "together" in fault:
            # Answered as things stand now, but only once all of them have come: none of the
            # clients can act on its answer before the others have theirs.
            answer = self._answer(path, token, name, command)
            # Fewer than announced came: answer anyway after the timeout; the test's counts tell.
            with contextlib.suppress(threading.BrokenBarrierError):
                fault["together"].wait(timeout=30)
            return answer
        if fault and "delay" in fault:
            time.sleep(fault["delay"])
        elif fault:
            return fault["status"], {
                "errors": [CommandError("SERVER_UNAVAILABLE", "Service unavailable").body]
            }
        return self._answer(path, token, name, command)

    def _answer(self, path: str, token: str | None, name: str, command: Doc) -> tuple[int, Doc]:
        if token != self.token:
            error = CommandError(
                "UNAUTHENTICATED", "UNAUTHENTICATED: Invalid token", family="SERVER"
            )
            return 401, {"errors": [error.body]}
        parts = path.strip("/").split("/")
        if parts[:3] != ["api", "json", "v1"] or len(parts) not in (4, 5):
            return 404, {"errors": [CommandError("NOT_FOUND", f"No such path {path}").body]}
        try:
            with self._lock:
                if len(parts) == 4:
                    return 200, self._keyspace_command(parts[3], name, command)
                return 200, self._collection_command(parts[3], parts[4], name, command)
        except CommandError as exc:
            return 200, {"errors": [exc.body]}

    def _keyspace(self, name: str) -> dict[str, _Collection]:
        if name not in self._keyspaces:
            raise CommandError(
                "KEYSPACE_DOES_NOT_EXIST",
                f"Unknown keyspace '{name}', you must create it first.",
                scope="SCHEMA",
            )
        return self._keyspaces[name]

    def _keyspace_command(self, keyspace: str, name: str, command: Doc) -> Doc:
        space = self._keyspace(keyspace)
        if name == "findCollections":
            if (command.get("options") or {}).get("explain"):
                listed = [{"name": n, "options": c.options} for n, c in space.items()]
                return {"status": {"collections": listed}}
            return {"status": {"collections": list(space)}}
        if name == "createCollection":
            options = command.get("options") or {}
            existing = space.get(command["name"])
            if existing is not None and existing.options != options:
                raise CommandError(
                    "EXISTING_COLLECTION_DIFFERENT_SETTINGS",
                    f"Collection '{command['name']}' already exists with different settings",
                    scope="SCHEMA",
                )
            if existing is None:
                space[command["name"]] = _Collection(options)
                self.created.append((keyspace, command["name"]))
            return {"status": {"ok": 1}}
        if name == "deleteCollection":
            space.pop(command["name"], None)
            return {"status": {"ok": 1}}
        raise CommandError("UNKNOWN_COMMAND", f"No '{name}' command on a keyspace")

    def _collection_command(self, keyspace: str, collection: str, name: str, command: Doc) -> Doc:
        space = self._keyspace(keyspace)
        if collection not in space:
            raise CommandError(
                "COLLECTION_NOT_EXIST",
                f"Collection does not exist, collection name: {collection}",
                scope="SCHEMA",
            )
        coll = space[collection]
        handler = getattr(self, f"_cmd_{name}", None)
        if handler is None:
            raise CommandError("UNKNOWN_COMMAND", f"No '{name}' command on a collection")
        return handler(coll, command)

    # --- collection commands -------------------------------------------------------------------

    @staticmethod
    def _select(coll: _Collection, command: Doc) -> list[Doc]:
        filter = command.get("filter") or {}
        for path in _paths(filter):
            if not coll.indexed(path):
                raise CommandError(
                    "UNINDEXED_FILTER_PATH",
                    f"Unindexed filter path: the filter path ('{path}') is not indexed",
                )
        found = DataApiServer._candidates(coll, filter)
        sort = command.get("sort") or {}
        for path, direction in reversed(list(sort.items())):
            if not coll.indexed(path):
                raise CommandError(
                    "UNINDEXED_SORT_PATH", f"Unindexed sort path: '{path}' is not indexed"
                )
            found.sort(
                key=lambda d, p=path: (_get(d, p)[1] is None, _get(d, p)[1]), reverse=direction < 0
            )
        return found

    @staticmethod
    def _candidates(coll: _Collection, filter: Doc) -> list[Doc]:
        """The matching documents: ``_id`` equality and ``$in`` are looked up, not scanned, and
        the last full scan is kept while the collection is unchanged (paging re-selects)."""
        ids = filter.get("_id")
        if len(filter) == 1 and isinstance(ids, dict) and list(ids) == ["$in"]:
            return [coll.docs[i] for i in ids["$in"] if i in coll.docs]
        if len(filter) == 1 and isinstance(ids, str):
            return [coll.docs[ids]] if ids in coll.docs else []
        key = json.dumps(filter, sort_keys=True)
        if coll.cached and coll.cached[0] == key:
            return list(coll.cached[1])
        found = [d for d in coll.docs.values() if matches(d, filter)]
        coll.cached = (key, found)
        return list(found)

    @staticmethod
    def _project(doc: Doc, projection: Doc | None) -> Doc:
        if not projection:
            return copy.deepcopy(doc)
        include = {k for k, v in projection.items() if v}
        if include:
            keep = include | ({"_id"} if projection.get("_id", True) else set())
            return {k: copy.deepcopy(v) for k, v in doc.items() if k in keep}
        return {k: copy.deepcopy(v) for k, v in doc.items() if k not in projection}

    def _cmd_insertOne(self, coll: _Collection, command: Doc) -> Doc:
        result = self._cmd_insertMany(coll, {"documents": [command["document"]], "options": {}})
        if "errors" in result:
            return result
        return {"status": {"insertedIds": result["status"]["insertedIds"]}}

    def _cmd_insertMany(self, coll: _Collection, command: Doc) -> Doc:
        options = command.get("options") or {}
        ordered = options.get("ordered", False)
        responses, inserted, errors = [], [], []
        for doc in command["documents"]:
            doc = copy.deepcopy(doc)
            doc.setdefault("_id", str(uuid.uuid4()))
            if errors and ordered:
                responses.append({"_id": doc["_id"], "status": "SKIPPED"})
                continue
            if doc["_id"] in coll.docs:
                errors.append(
                    CommandError(
                        "DOCUMENT_ALREADY_EXISTS",
                        f"Document already exists with the given _id: {doc['_id']}",
                        family="REQUEST",
                        scope="DOCUMENT",
                    ).body
                )
                responses.append(
                    {"_id": doc["_id"], "status": "ERROR", "errorsIdx": len(errors) - 1}
                )
                continue
            coll.docs[doc["_id"]] = doc
            coll.cached = None
            inserted.append(doc["_id"])
            responses.append({"_id": doc["_id"], "status": "OK"})
        status: Doc = (
            {"documentResponses": responses}
            if options.get("returnDocumentResponses")
            else {"insertedIds": inserted}
        )
        return {"status": status, **({"errors": errors} if errors else {})}

    def _cmd_findOne(self, coll: _Collection, command: Doc) -> Doc:
        found = self._select(coll, command)
        doc = self._project(found[0], command.get("projection")) if found else None
        return {"data": {"document": doc}}

    def _cmd_find(self, coll: _Collection, command: Doc) -> Doc:
        options = command.get("options") or {}
        found = self._select(coll, command)[options.get("skip") or 0 :]
        if options.get("limit") is not None:
            found = found[: options["limit"]]
        start = int(options.get("pageState") or 0)
        page = found[start : start + PAGE_SIZE]
        more = start + PAGE_SIZE < len(found)
        return {
            "data": {
                "documents": [self._project(d, command.get("projection")) for d in page],
                "nextPageState": str(start + PAGE_SIZE) if more else None,
            }
        }

    def _cmd_findOneAndReplace(self, coll: _Collection, command: Doc) -> Doc:
        options = command.get("options") or {}
        found = self._select(coll, command)
        replacement = copy.deepcopy(command["replacement"])
        status: Doc = {"matchedCount": len(found[:1]), "modifiedCount": 0}
        before = copy.deepcopy(found[0]) if found else None
        if found:
            replacement["_id"] = found[0]["_id"]
            status["modifiedCount"] = int(found[0] != replacement)
            coll.docs[found[0]["_id"]] = replacement
            coll.cached = None
        elif options.get("upsert"):
            replacement.setdefault(
                "_id", (command.get("filter") or {}).get("_id") or str(uuid.uuid4())
            )
            coll.docs[replacement["_id"]] = replacement
            coll.cached = None
            status["upsertedId"] = replacement["_id"]
        else:
            replacement = None
        shown = replacement if options.get("returnDocument") == "after" else before
        doc = self._project(shown, command.get("projection")) if shown is not None else None
        return {"data": {"document": doc}, "status": status}

    def _cmd_deleteMany(self, coll: _Collection, command: Doc) -> Doc:
        gone = [d["_id"] for d in self._select(coll, command)]
        for key in gone:
            del coll.docs[key]
        coll.cached = None
        return {"status": {"deletedCount": len(gone)}}

    def _cmd_countDocuments(self, coll: _Collection, command: Doc) -> Doc:
        n = len(self._select(coll, command))
        if n > COUNT_LIMIT:
            return {"status": {"count": COUNT_LIMIT, "moreData": True}}
        return {"status": {"count": n}}

    def _cmd_estimatedDocumentCount(self, coll: _Collection, command: Doc) -> Doc:
        return {"status": {"count": len(coll.docs)}}
