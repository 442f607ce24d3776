"""The benchmark's baseline: the services' work written by hand in a minimal Flask app.

No factory, schemas, smorest, Flask-JWT-Extended, logging or metrics: the same pymongo queries
on the services' own databases and indexes, PyJWT with the same key and checks, argon2-cffi with
the same parameters, the standard json module. `make bench` runs it under the same gunicorn
config and worker count as the services and reports every figure as a ratio to it.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import os
import threading
import unicodedata
import urllib.request
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher, Type
from argon2.exceptions import VerificationError
from bson import ObjectId
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, Response, request
from pymongo import ASCENDING, MongoClient, ReturnDocument
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError
from pymongo.write_concern import WriteConcern
from ua_parser import parse as parse_user_agent

Document = dict[str, Any]

ISSUER, AUDIENCE, LEEWAY = "auth-service", "flask-factory", 5
ACCESS_TTL, REFRESH_TTL = timedelta(minutes=15), timedelta(days=30)
REQUIRED = ["iss", "aud", "sub", "iat", "nbf", "exp", "jti", "type", "fid"]
PRIORITY_RANK = {"low": 0, "normal": 1, "high": 2}
MAX_TODOS = 10_000
RETRY_GRACE, ROTATION_LEASE = timedelta(seconds=10), timedelta(seconds=10)


class Issuer:
    """auth's side of the tokens, read once per process: its public keys (JWKS), its signing
    key, the revocations its feed lists, and the argon2 parameters. The FastAPI peer uses it
    too (bench/fastapi_peer.py)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        with urllib.request.urlopen(env["BASELINE_JWKS_URL"], timeout=2) as answer:  # noqa: S310
            jwks = jwt.PyJWKSet.from_dict(json.load(answer))
        self.public_keys = {key.key_id: key.key for key in jwks.keys}
        with open(env["BASELINE_PRIVATE_KEY_FILE"], "rb") as pem:
            self.private_key = pem.read()
        self.kid = jwks.keys[0].key_id
        self.hasher = PasswordHasher(time_cost=3, memory_cost=65536, parallelism=4, type=Type.ID)
        # Like todo, revocations are checked in memory against what auth's feed says.
        feed = urllib.request.Request(  # noqa: S310
            env["BASELINE_REVOCATION_FEED_URL"],
            headers={"Authorization": f"Bearer {env['BASELINE_FEED_TOKEN']}"},
        )
        with urllib.request.urlopen(feed, timeout=2) as answer:  # noqa: S310
            self.revoked: set[str] = {item["value"] for item in json.load(answer)["items"]}

    def verify(self, token: str, expected_type: str) -> Document | None:
        """The claims of ``token`` if it is a valid, unrevoked token of ``expected_type``."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            claims: Document = jwt.decode(
                token,
                self.public_keys[kid],
                algorithms=["ES256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=LEEWAY,
                options={"require": REQUIRED},
            )
        except (jwt.InvalidTokenError, KeyError):
            return None
        if claims["type"] != expected_type:
            return None
        if claims["jti"] in self.revoked or claims["fid"] in self.revoked:
            return None
        return claims

    def issue(self, user: Document, family_id: str) -> Document:
        """A new access and refresh token pair for ``user``, in ``family_id``."""
        now = int(datetime.now(UTC).timestamp())
        base = {"iss": ISSUER, "aud": AUDIENCE, "sub": str(user["_id"]), "iat": now, "nbf": now}
        base |= {"roles": list(user["roles"]), "fid": family_id}
        access = {**base, "exp": now + int(ACCESS_TTL.total_seconds()), "jti": str(uuid.uuid4())}
        access |= {"type": "access", "fresh": True}
        refresh = {**base, "exp": now + int(REFRESH_TTL.total_seconds()), "jti": str(uuid.uuid4())}
        refresh |= {"type": "refresh", "fresh": False}
        headers = {"kid": self.kid}
        return {
            "access_token": jwt.encode(access, self.private_key, "ES256", headers),
            "refresh_token": jwt.encode(refresh, self.private_key, "ES256", headers),
            "token_type": "Bearer",
            "expires_in": int(ACCESS_TTL.total_seconds()),
        }


class _State:
    """Per-process resources, created on first use after gunicorn forks."""

    def __init__(self) -> None:
        self.pid = 0
        self.lock = threading.Lock()

    def ensure(self) -> None:
        if self.pid == os.getpid():
            return
        with self.lock:
            if self.pid == os.getpid():
                return
            env = os.environ
            client: MongoClient[Document] = MongoClient(
                env["BASELINE_MONGO_URI"],
                serverSelectionTimeoutMS=1500,
                connectTimeoutMS=1000,
                socketTimeoutMS=5000,
                tz_aware=True,
            )
            majority = WriteConcern(w="majority")
            self.todo_db: Database[Document] = client.get_database(
                env["BASELINE_TODO_DB"], write_concern=majority
            )
            self.auth_db: Database[Document] = client.get_database(
                env["BASELINE_AUTH_DB"], write_concern=majority
            )
            self.issuer = Issuer(env)
            self.pid = os.getpid()


state = _State()


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status, headers, mimetype="application/json")


def _claims(expected_type: str) -> Document | None:
    """The verified claims of the bearer token, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return state.issuer.verify(token, expected_type) if scheme == "Bearer" else None


def _todo_view(todo: Document) -> Document:
    public = {k: v for k, v in todo.items() if k not in ("_id", "owner", "priority_rank")}
    for name in ("created_at", "updated_at", "due"):
        if public.get(name) is not None:
            public[name] = public[name].isoformat()
    public["id"] = str(todo["_id"])
    return public


def _etag(todo: Document) -> str:
    return f'"{todo["_id"]}.{todo["version"]}"'


def list_todos(owner: str) -> Response:
    page = max(1, int(request.args.get("page", 1)))
    page_size = min(100, max(1, int(request.args.get("page_size", 20))))
    todos = state.todo_db["todos"]
    total = todos.count_documents({"owner": owner})
    found = todos.find(
        {"owner": owner},
        sort=[("created_at", ASCENDING), ("_id", ASCENDING)],
        skip=(page - 1) * page_size,
        limit=page_size,
    )
    pagination = {"total": total, "page": page, "first_page": 1}
    return _json(
        [_todo_view(todo) for todo in found], headers={"X-Pagination": json.dumps(pagination)}
    )


def create_todo(owner: str) -> Response:
    fields = request.get_json()
    title = fields.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 200:
        return _json({"status": 422}, 422)
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    priority = fields.get("priority", "normal")
    todo = {
        "owner": owner,
        "title": title,
        "notes": fields.get("notes", ""),
        "done": bool(fields.get("done", False)),
        "due": None,
        "priority": priority,
        "tags": list(fields.get("tags", [])),
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "priority_rank": PRIORITY_RANK[priority],
    }
    # Like todo, one more todo counted against the user's cap, atomically, before the insert.
    try:
        counted = state.todo_db["todo_counts"].find_one_and_update(
            {"_id": owner, "count": {"$lt": MAX_TODOS}}, {"$inc": {"count": 1}}, upsert=True
        )
    except DuplicateKeyError:  # at the cap
        return _json({"status": 409}, 409)
    if counted is None:
        state.todo_db["todo_counts"].update_one(
            {"_id": owner},
            {"$inc": {"count": state.todo_db["todos"].count_documents({"owner": owner})}},
        )
    state.todo_db["todos"].insert_one(todo)
    headers = {"ETag": _etag(todo), "Location": f"/todos/{todo['_id']}"}
    return _json(_todo_view(todo), 201, headers)


def get_todo(owner: str, todo_id: str) -> Response:
    todo = state.todo_db["todos"].find_one({"_id": ObjectId(todo_id), "owner": owner})
    if todo is None:
        return _json({"status": 404}, 404)
    return _json(_todo_view(todo), headers={"ETag": _etag(todo)})


def update_todo(owner: str, todo_id: str) -> Response:
    etag = request.headers.get("If-Match", "").strip('"')
    if not etag:
        return _json({"status": 428}, 428)
    version = int(etag.rpartition(".")[2])
    changes = request.get_json()
    changes["updated_at"] = datetime.now(UTC)
    todo = state.todo_db["todos"].find_one_and_update(
        {"_id": ObjectId(todo_id), "owner": owner, "version": {"$in": [version]}},
        {"$set": changes, "$inc": {"version": 1}},
        return_document=ReturnDocument.AFTER,
    )
    if todo is None:
        return _json({"status": 412}, 412)
    return _json(_todo_view(todo), headers={"ETag": _etag(todo)})


def _count_attempt(key: str, window: timedelta) -> None:
    """One moving-window hit, as auth's rate limiter records it: an insert, then a count."""
    now = datetime.now(UTC)
    hits = state.auth_db["rate_limit_hits"]
    hits.insert_one({"key": key, "at": now.timestamp(), "expires_at": now + window})
    hits.count_documents({"key": key, "expires_at": {"$gt": now}})


def login() -> Response:
    fields = request.get_json()
    username = unicodedata.normalize("NFKC", fields["username"].strip().casefold())
    for key in (f"login/address/{request.remote_addr}", f"login/username/{username}"):
        _count_attempt(f"{key}/minute", timedelta(minutes=1))
        _count_attempt(f"{key}/day", timedelta(days=1))
    user = state.auth_db["users"].find_one({"username_key": username})
    try:
        valid = user is not None and state.issuer.hasher.verify(
            user["password_hash"], fields["password"]
        )
    except VerificationError:
        valid = False
    if user is None or not valid or user["disabled"]:
        return _json({"status": 401}, 401)
    family_id, where = uuid.uuid4().hex, _where()
    pair = state.issuer.issue(user, family_id)
    state.auth_db["sessions"].insert_one(session_start(user, family_id, datetime.now(UTC), where))
    return _json(pair, headers={"Cache-Control": "no-store"})


def _where() -> Document:
    return session_where(request.headers.get("User-Agent", ""), request.remote_addr or "")


def revocation_query(claims: Document, now: datetime) -> Document:
    """auth's check of a token against its revocations, in its database."""
    return {
        "expires_at": {"$gt": now},
        "$or": [
            {"kind": "token", "value": claims["jti"]},
            {"kind": "family", "value": claims["fid"]},
            {
                "kind": "subject",
                "value": claims["sub"],
                "not_before": {"$gt": datetime.fromtimestamp(claims["iat"], UTC)},
            },
        ],
    }


def refresh_use(claims: Document, now: datetime) -> Document:
    """The record of a refresh token's one use (its jti is the unique _id)."""
    return {
        "_id": claims["jti"],
        "family_id": claims["fid"],
        "user_id": claims["sub"],
        "used_at": now,
        "lease_until": now + ROTATION_LEASE,
        "expires_at": datetime.fromtimestamp(claims["exp"] + LEEWAY, UTC),
    }


@functools.lru_cache(maxsize=1024)
def _client(user_agent: str) -> str:
    found = parse_user_agent(user_agent[:512])
    agent = found.user_agent.family if found.user_agent else "Other"
    system = found.os.family if found.os else "Other"
    return f"{agent} on {system}"


def session_where(user_agent: str, address: str) -> Document:
    """auth's coarse description of a session's client: its user agent and its network."""
    try:
        network = str(ipaddress.ip_network(f"{address}/24", strict=False))
    except ValueError:
        network = "unknown"
    return {"client": _client(user_agent), "address": network}


def session_start(user: Document, family_id: str, now: datetime, where: Document) -> Document:
    """auth's record of a login's session."""
    return {
        "_id": family_id,
        "user_id": str(user["_id"]),
        "created_at": now,
        "last_used_at": now,
        "expires_at": now + REFRESH_TTL + timedelta(seconds=LEEWAY),
        "ended_at": None,
        **where,
    }


def session_touch(claims: Document, now: datetime, where: Document) -> tuple[Document, Document]:
    """auth's record of a session's refresh: the filter and update of one upsert."""
    return {"_id": claims["fid"], "ended_at": None}, {
        "$set": {"last_used_at": now, **where},
        "$max": {"expires_at": now + REFRESH_TTL + timedelta(seconds=LEEWAY)},
        "$setOnInsert": {"user_id": claims["sub"], "created_at": now},
    }


def refresh() -> Response:
    claims = _claims("refresh")
    if claims is None:
        return _json({"status": 401}, 401)
    now = datetime.now(UTC)
    # auth checks revocations and the account in its database on every token it accepts.
    revoked = state.auth_db["revocations"].find_one(
        revocation_query(claims, now),
        projection={"_id": 1},
    )
    user = state.auth_db["users"].find_one({"_id": ObjectId(claims["sub"])})
    if revoked is not None or user is None or user["disabled"]:
        return _json({"status": 401}, 401)
    try:  # a refresh token is used once: its jti is the unique _id of its one use
        state.auth_db["refresh_token_uses"].insert_one(refresh_use(claims, now))
    except DuplicateKeyError:
        return _json({"status": 401}, 401)
    pair = state.issuer.issue(user, claims["fid"])
    # Like auth, the successor pair is kept encrypted for a retry within the grace window.
    presented = request.headers["Authorization"].partition(" ")[2]
    key = hashlib.sha256(b"refresh-successor:" + presented.encode()).digest()
    nonce = os.urandom(12)
    sealed = nonce + AESGCM(key).encrypt(nonce, json.dumps(pair).encode(), None)
    state.auth_db["refresh_token_successors"].replace_one(
        {"_id": claims["jti"]}, {"successor": sealed, "expires_at": now + RETRY_GRACE}, upsert=True
    )
    state.auth_db["sessions"].update_one(*session_touch(claims, now, _where()), upsert=True)
    return _json(pair, headers={"Cache-Control": "no-store"})


def create_app() -> Flask:
    """The baseline app; gunicorn runs ``bench.baseline_app:create_app()``."""
    app = Flask(__name__)

    @app.before_request
    def _resources() -> None:
        state.ensure()

    @app.get("/livez")
    def livez() -> Response:
        return _json({"status": "ok"})

    @app.route("/todos", methods=["GET", "POST"])
    def todos() -> Response:
        claims = _claims("access")
        if claims is None:
            return _json({"status": 401}, 401)
        if request.method == "POST":
            return create_todo(claims["sub"])
        return list_todos(claims["sub"])

    @app.route("/todos/<todo_id>", methods=["GET", "PATCH"])
    def todo(todo_id: str) -> Response:
        claims = _claims("access")
        if claims is None:
            return _json({"status": 401}, 401)
        if request.method == "PATCH":
            return update_todo(claims["sub"], todo_id)
        return get_todo(claims["sub"], todo_id)

    app.add_url_rule("/auth/login", view_func=login, methods=["POST"])
    app.add_url_rule("/auth/refresh", view_func=refresh, methods=["POST"])
    return app
