"""The benchmark's FastAPI peer: the services' work written the way FastAPI's docs show it.

Pydantic v2 models for bodies and responses, an ``HTTPBearer`` dependency that verifies the JWT
with PyJWT against auth's JWKS, and the same pymongo queries, indexes, argon2 parameters and
revocation check as ``bench.baseline_app``. Two variants, as a team would write either:

- ``sync_app``: ``def`` endpoints with pymongo's ``MongoClient`` (FastAPI runs them in its
  thread pool);
- ``async_app``: ``async def`` endpoints with pymongo's ``AsyncMongoClient``.

``make bench`` serves each as FastAPI's docs deploy it: ``uvicorn --workers N`` with uvloop and
httptools, default settings otherwise (its access log on, as the services log every request).
"""

from __future__ import annotations

import hashlib
import json
import os
import unicodedata
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from argon2.exceptions import VerificationError
from bson import ObjectId
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, field_serializer
from pymongo import ASCENDING, AsyncMongoClient, MongoClient, ReturnDocument
from pymongo.errors import DuplicateKeyError
from pymongo.write_concern import WriteConcern

from bench.baseline_app import (
    MAX_TODOS,
    PRIORITY_RANK,
    RETRY_GRACE,
    Issuer,
    refresh_use,
    revocation_query,
    session_start,
    session_touch,
    session_where,
)

Document = dict[str, Any]
Priority = Literal["low", "normal", "high"]


# --- Models ------------------------------------------------------------------------------


class TodoCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    notes: str = Field(default="", max_length=10_000)
    done: bool = False
    priority: Priority = "normal"
    tags: list[str] = Field(default_factory=list, max_length=20)


class TodoUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    notes: str | None = Field(default=None, max_length=10_000)
    done: bool | None = None
    priority: Priority | None = None
    tags: list[str] | None = Field(default=None, max_length=20)


class Todo(BaseModel):
    id: str
    title: str
    notes: str
    done: bool
    due: datetime | None
    priority: Priority
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    version: int

    @field_serializer("created_at", "updated_at", "due")
    def _iso(self, moment: datetime | None) -> str | None:
        # The services' and the baseline's form (isoformat: +00:00), not pydantic's "Z".
        return None if moment is None else moment.isoformat()

    @classmethod
    def of(cls, document: Document) -> Todo:
        return cls(id=str(document["_id"]), **document)


class Login(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"  # noqa: S105 (the scheme's name)
    expires_in: int


# --- Per-process resources ---------------------------------------------------------------


class Resources(Issuer):
    """What a worker reads once as it starts (its lifespan): keys, revocations, the hasher."""

    def __init__(self) -> None:
        super().__init__(os.environ)

    def claims(self, token: str, expected_type: str) -> Document:
        """The verified claims of ``token``; 401 unless it is a valid token of that type."""
        claims = self.verify(token, expected_type)
        if claims is None:
            raise _unauthorized()
        return claims

    def pair(self, user: Document, family_id: str) -> TokenPair:
        return TokenPair(**self.issue(user, family_id))


def _where(request: Request) -> Document:
    address = request.client.host if request.client else ""
    return session_where(request.headers.get("User-Agent", ""), address)


def _unauthorized() -> HTTPException:
    return HTTPException(401, "Invalid token", headers={"WWW-Authenticate": "Bearer"})


def _majority(client: MongoClient[Document] | AsyncMongoClient[Document], name: str) -> Any:
    return client.get_database(name, write_concern=WriteConcern(w="majority"))


def _client_options() -> dict[str, Any]:
    return {
        "serverSelectionTimeoutMS": 1500,
        "connectTimeoutMS": 1000,
        "socketTimeoutMS": 5000,
        "tz_aware": True,
    }


bearer = HTTPBearer()
Credentials = Annotated[HTTPAuthorizationCredentials, Depends(bearer)]


async def current_owner(request: Request, credentials: Credentials) -> str:
    """The user an access token acts for (FastAPI's "get current user" dependency)."""
    claims = request.app.state.resources.claims(credentials.credentials, "access")
    return str(claims["sub"])


Owner = Annotated[str, Depends(current_owner)]


def _new_todo(owner: str, todo: TodoCreate) -> Document:
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    return {
        "owner": owner,
        **todo.model_dump(),
        "due": None,
        "created_at": now,
        "updated_at": now,
        "version": 1,
        "priority_rank": PRIORITY_RANK[todo.priority],
    }


def _etag(todo: Document) -> str:
    return f'"{todo["_id"]}.{todo["version"]}"'


def _version(if_match: str | None) -> int:
    if not if_match:
        raise HTTPException(428, "If-Match is required")
    return int(if_match.strip('"').rpartition(".")[2])


def _changes(update: TodoUpdate) -> Document:
    changes = update.model_dump(exclude_unset=True)
    changes["updated_at"] = datetime.now(UTC)
    return changes


def _sealed_successor(presented: str, pair: TokenPair) -> bytes:
    key = hashlib.sha256(b"refresh-successor:" + presented.encode()).digest()
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, pair.model_dump_json().encode(), None)


def _username_key(username: str) -> str:
    return unicodedata.normalize("NFKC", username.strip().casefold())


def _attempt(key: str, window: timedelta, now: datetime) -> tuple[Document, Document]:
    """One moving-window hit, as auth's rate limiter records it: an insert, then a count."""
    return (
        {"key": key, "at": now.timestamp(), "expires_at": now + window},
        {"key": key, "expires_at": {"$gt": now}},
    )


def _attempts(address: str, username: str) -> list[tuple[str, timedelta]]:
    return [
        (f"{key}/{name}", window)
        for key in (f"login/address/{address}", f"login/username/{username}")
        for name, window in (("minute", timedelta(minutes=1)), ("day", timedelta(days=1)))
    ]


LIST_SORT = [("created_at", ASCENDING), ("_id", ASCENDING)]


# --- The sync variant: def endpoints, pymongo's MongoClient -------------------------------


@asynccontextmanager
async def _sync_lifespan(app: FastAPI) -> AsyncIterator[None]:
    client: MongoClient[Document] = MongoClient(
        os.environ["BASELINE_MONGO_URI"], **_client_options()
    )
    app.state.resources = Resources()
    app.state.todo_db = _majority(client, os.environ["BASELINE_TODO_DB"])
    app.state.auth_db = _majority(client, os.environ["BASELINE_AUTH_DB"])
    yield
    client.close()


sync_app = FastAPI(title="todo (FastAPI peer, sync)", lifespan=_sync_lifespan)


@sync_app.get("/livez")
def sync_livez() -> dict[str, str]:
    return {"status": "ok"}


@sync_app.get("/todos", response_model=list[Todo])
def sync_list_todos(
    request: Request,
    response: Response,
    owner: Owner,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[Todo]:
    todos = request.app.state.todo_db["todos"]
    total = todos.count_documents({"owner": owner})
    found = todos.find(
        {"owner": owner}, sort=LIST_SORT, skip=(page - 1) * page_size, limit=page_size
    )
    response.headers["X-Pagination"] = json.dumps({"total": total, "page": page, "first_page": 1})
    return [Todo.of(todo) for todo in found]


@sync_app.post("/todos", response_model=Todo, status_code=201)
def sync_create_todo(request: Request, response: Response, owner: Owner, todo: TodoCreate) -> Todo:
    db = request.app.state.todo_db
    document = _new_todo(owner, todo)
    try:
        counted = db["todo_counts"].find_one_and_update(
            {"_id": owner, "count": {"$lt": MAX_TODOS}}, {"$inc": {"count": 1}}, upsert=True
        )
    except DuplicateKeyError:
        raise HTTPException(409, "Too many todos") from None
    if counted is None:
        total = db["todos"].count_documents({"owner": owner})
        db["todo_counts"].update_one({"_id": owner}, {"$inc": {"count": total}})
    db["todos"].insert_one(document)
    response.headers["ETag"] = _etag(document)
    response.headers["Location"] = f"/todos/{document['_id']}"
    return Todo.of(document)


@sync_app.get("/todos/{todo_id}", response_model=Todo)
def sync_get_todo(request: Request, response: Response, owner: Owner, todo_id: str) -> Todo:
    todo = request.app.state.todo_db["todos"].find_one({"_id": ObjectId(todo_id), "owner": owner})
    if todo is None:
        raise HTTPException(404, "Todo not found")
    response.headers["ETag"] = _etag(todo)
    return Todo.of(todo)


@sync_app.patch("/todos/{todo_id}", response_model=Todo)
def sync_update_todo(
    *,
    request: Request,
    response: Response,
    owner: Owner,
    todo_id: str,
    update: TodoUpdate,
    if_match: Annotated[str | None, Header()] = None,
) -> Todo:
    todo = request.app.state.todo_db["todos"].find_one_and_update(
        {"_id": ObjectId(todo_id), "owner": owner, "version": {"$in": [_version(if_match)]}},
        {"$set": _changes(update), "$inc": {"version": 1}},
        return_document=ReturnDocument.AFTER,
    )
    if todo is None:
        raise HTTPException(412, "The todo has changed")
    response.headers["ETag"] = _etag(todo)
    return Todo.of(todo)


@sync_app.post("/auth/login", response_model=TokenPair)
def sync_login(request: Request, response: Response, login: Login) -> TokenPair:
    resources, db = request.app.state.resources, request.app.state.auth_db
    username = _username_key(login.username)
    now = datetime.now(UTC)
    address = request.client.host if request.client else ""
    for key, window in _attempts(address, username):
        hit, counted = _attempt(key, window, now)
        db["rate_limit_hits"].insert_one(hit)
        db["rate_limit_hits"].count_documents(counted)
    user = db["users"].find_one({"username_key": username})
    try:
        valid = user is not None and resources.hasher.verify(user["password_hash"], login.password)
    except VerificationError:
        valid = False
    if user is None or not valid or user["disabled"]:
        raise HTTPException(401, "Invalid credentials")
    response.headers["Cache-Control"] = "no-store"
    family_id = uuid.uuid4().hex
    pair: TokenPair = resources.pair(user, family_id)
    db["sessions"].insert_one(session_start(user, family_id, datetime.now(UTC), _where(request)))
    return pair


@sync_app.post("/auth/refresh", response_model=TokenPair)
def sync_refresh(request: Request, response: Response, credentials: Credentials) -> TokenPair:
    resources, db = request.app.state.resources, request.app.state.auth_db
    claims = resources.claims(credentials.credentials, "refresh")
    now = datetime.now(UTC)
    revoked = db["revocations"].find_one(revocation_query(claims, now), projection={"_id": 1})
    user = db["users"].find_one({"_id": ObjectId(claims["sub"])})
    if revoked is not None or user is None or user["disabled"]:
        raise _unauthorized()
    try:
        db["refresh_token_uses"].insert_one(refresh_use(claims, now))
    except DuplicateKeyError:
        raise _unauthorized() from None
    pair: TokenPair = resources.pair(user, claims["fid"])
    db["refresh_token_successors"].replace_one(
        {"_id": claims["jti"]},
        {
            "successor": _sealed_successor(credentials.credentials, pair),
            "expires_at": now + RETRY_GRACE,
        },
        upsert=True,
    )
    db["sessions"].update_one(*session_touch(claims, now, _where(request)), upsert=True)
    response.headers["Cache-Control"] = "no-store"
    return pair


# --- The async variant: async def endpoints, pymongo's AsyncMongoClient --------------------


@asynccontextmanager
async def _async_lifespan(app: FastAPI) -> AsyncIterator[None]:
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        os.environ["BASELINE_MONGO_URI"], **_client_options()
    )
    app.state.resources = await run_in_threadpool(Resources)
    app.state.todo_db = _majority(client, os.environ["BASELINE_TODO_DB"])
    app.state.auth_db = _majority(client, os.environ["BASELINE_AUTH_DB"])
    yield
    await client.close()


async_app = FastAPI(title="todo (FastAPI peer, async)", lifespan=_async_lifespan)


@async_app.get("/livez")
async def async_livez() -> dict[str, str]:
    return {"status": "ok"}


@async_app.get("/todos", response_model=list[Todo])
async def async_list_todos(
    request: Request,
    response: Response,
    owner: Owner,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
) -> list[Todo]:
    todos = request.app.state.todo_db["todos"]
    total = await todos.count_documents({"owner": owner})
    found = todos.find(
        {"owner": owner}, sort=LIST_SORT, skip=(page - 1) * page_size, limit=page_size
    )
    response.headers["X-Pagination"] = json.dumps({"total": total, "page": page, "first_page": 1})
    return [Todo.of(todo) async for todo in found]


@async_app.post("/todos", response_model=Todo, status_code=201)
async def async_create_todo(
    request: Request, response: Response, owner: Owner, todo: TodoCreate
) -> Todo:
    db = request.app.state.todo_db
    document = _new_todo(owner, todo)
    try:
        counted = await db["todo_counts"].find_one_and_update(
            {"_id": owner, "count": {"$lt": MAX_TODOS}}, {"$inc": {"count": 1}}, upsert=True
        )
    except DuplicateKeyError:
        raise HTTPException(409, "Too many todos") from None
    if counted is None:
        total = await db["todos"].count_documents({"owner": owner})
        await db["todo_counts"].update_one({"_id": owner}, {"$inc": {"count": total}})
    await db["todos"].insert_one(document)
    response.headers["ETag"] = _etag(document)
    response.headers["Location"] = f"/todos/{document['_id']}"
    return Todo.of(document)


@async_app.get("/todos/{todo_id}", response_model=Todo)
async def async_get_todo(request: Request, response: Response, owner: Owner, todo_id: str) -> Todo:
    todos = request.app.state.todo_db["todos"]
    todo = await todos.find_one({"_id": ObjectId(todo_id), "owner": owner})
    if todo is None:
        raise HTTPException(404, "Todo not found")
    response.headers["ETag"] = _etag(todo)
    return Todo.of(todo)


@async_app.patch("/todos/{todo_id}", response_model=Todo)
async def async_update_todo(
    *,
    request: Request,
    response: Response,
    owner: Owner,
    todo_id: str,
    update: TodoUpdate,
    if_match: Annotated[str | None, Header()] = None,
) -> Todo:
    todo = await request.app.state.todo_db["todos"].find_one_and_update(
        {"_id": ObjectId(todo_id), "owner": owner, "version": {"$in": [_version(if_match)]}},
        {"$set": _changes(update), "$inc": {"version": 1}},
        return_document=ReturnDocument.AFTER,
    )
    if todo is None:
        raise HTTPException(412, "The todo has changed")
    response.headers["ETag"] = _etag(todo)
    return Todo.of(todo)


@async_app.post("/auth/login", response_model=TokenPair)
async def async_login(request: Request, response: Response, login: Login) -> TokenPair:
    resources, db = request.app.state.resources, request.app.state.auth_db
    username = _username_key(login.username)
    now = datetime.now(UTC)
    address = request.client.host if request.client else ""
    for key, window in _attempts(address, username):
        hit, counted = _attempt(key, window, now)
        await db["rate_limit_hits"].insert_one(hit)
        await db["rate_limit_hits"].count_documents(counted)
    user = await db["users"].find_one({"username_key": username})
    try:
        # argon2 holds the CPU for tens of milliseconds: off the event loop.
        valid = user is not None and await run_in_threadpool(
            resources.hasher.verify, user["password_hash"], login.password
        )
    except VerificationError:
        valid = False
    if user is None or not valid or user["disabled"]:
        raise HTTPException(401, "Invalid credentials")
    response.headers["Cache-Control"] = "no-store"
    family_id = uuid.uuid4().hex
    pair: TokenPair = resources.pair(user, family_id)
    where = _where(request)
    await db["sessions"].insert_one(session_start(user, family_id, datetime.now(UTC), where))
    return pair


@async_app.post("/auth/refresh", response_model=TokenPair)
async def async_refresh(
    request: Request, response: Response, credentials: Credentials
) -> TokenPair:
    resources, db = request.app.state.resources, request.app.state.auth_db
    claims = resources.claims(credentials.credentials, "refresh")
    now = datetime.now(UTC)
    query = revocation_query(claims, now)
    revoked = await db["revocations"].find_one(query, projection={"_id": 1})
    user = await db["users"].find_one({"_id": ObjectId(claims["sub"])})
    if revoked is not None or user is None or user["disabled"]:
        raise _unauthorized()
    try:
        await db["refresh_token_uses"].insert_one(refresh_use(claims, now))
    except DuplicateKeyError:
        raise _unauthorized() from None
    pair: TokenPair = resources.pair(user, claims["fid"])
    await db["refresh_token_successors"].replace_one(
        {"_id": claims["jti"]},
        {
            "successor": _sealed_successor(credentials.credentials, pair),
            "expires_at": now + RETRY_GRACE,
        },
        upsert=True,
    )
    await db["sessions"].update_one(*session_touch(claims, now, _where(request)), upsert=True)
    response.headers["Cache-Control"] = "no-store"
    return pair
