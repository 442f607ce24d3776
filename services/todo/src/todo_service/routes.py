"""The todo API: /todos and /todos/{todo_id}, scoped to the token's user."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NoReturn

from bson import ObjectId
from flask import Response, current_app, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint

from factory_core import (
    PAGE_HEADERS,
    Document,
    Problem,
    authenticated,
    current_subject,
    page_of,
    parse_object_id,
    requested_page,
    utc_now,
)
from todo_service.conditional import (
    etag_for,
    if_match_versions,
    if_none_match_versions,
    not_modified,
)
from todo_service.idempotency import (
    IDEMPOTENCY_KEY_HEADER,
    StoredResponse,
    request_fingerprint,
    run_once,
    validate_key,
)
from todo_service.repositories import (
    TodoFilter,
    TodoLimitReachedError,
    idempotency_records,
    sort_order,
    to_document,
    todos,
)
from todo_service.schemas import (
    TodoCreateSchema,
    TodoQueryArgsSchema,
    TodoReplaceSchema,
    TodoSchema,
    TodoUpdateSchema,
)

blp = Blueprint("todos", __name__, url_prefix="/todos", description="The caller's own todos.")

# Schema instances, built once: a class would make webargs build one on every request.
_TODO_SCHEMA = TodoSchema()

_ETAG = {"ETag": "ETAG"}
_CREATED = {
    **_ETAG,
    "Location": {"description": "The new todo's URL.", "schema": {"type": "string"}},
    "Idempotent-Replayed": {
        "description": "Present (true) when this is the stored response of an earlier request "
        "with the same Idempotency-Key: no todo was created by this one.",
        "schema": {"type": "string", "enum": ["true"]},
    },
}
_IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": "The todo's ETag as last read (the ETag header, or its etag field); 412 "
    "if it changed since.",
    "schema": {"type": "string"},
}
_IF_MATCH_OPTIONAL = {**_IF_MATCH, "required": False}
_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "description": "An ETag already held; 304 if the todo still has it.",
    "schema": {"type": "string"},
}
_IF_NONE_MATCH_WRITE = {
    **_IF_NONE_MATCH,
    "description": "ETags (weak comparison) this write must not apply to, or *: 412 if the "
    "todo has one of them (RFC 9110 section 13.1.2).",
}
_IDEMPOTENCY_KEY = {
    "name": IDEMPOTENCY_KEY_HEADER,
    "in": "header",
    "description": "A unique key per intended todo: a retry with the same key and body "
    "replays the first response instead of creating another todo.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


@blp.route("")
class Todos(MethodView):
    @authenticated(blp)
    @blp.arguments(TodoQueryArgsSchema(), location="query")
    @blp.response(200, TodoSchema(many=True), headers=PAGE_HEADERS)
    @blp.alt_response(400, response="BAD_REQUEST")  # a cursor not valid for this list
    @blp.doc(operationId="listTodos")
    def get(self, args: dict[str, Any]) -> Any:
        """List the caller's todos, one page at a time"""
        page = requested_page(args, sort_order(args.pop("sort")))
        found, total = todos.find_for_owner(
            owner=current_subject(), filters=TodoFilter(**args), page=page
        )
        return page_of(found, page, total=total)

    @authenticated(blp)
    @blp.arguments(TodoCreateSchema())
    @blp.response(201, TodoSchema(), headers=_CREATED)
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.doc(operationId="createTodo", parameters=[_IDEMPOTENCY_KEY])
    def post(self, fields: dict[str, Any]) -> Response:
        """Create a todo (once per Idempotency-Key)"""
        owner = current_subject()
        key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
        if key is None:
            return _send(_create(owner, fields))
        config = current_app.config
        stored, replayed = run_once(
            owner=owner,
            key=validate_key(key),
            fingerprint=request_fingerprint(request.get_json()),
            ttl=timedelta(seconds=int(config["IDEMPOTENCY_KEY_TTL_SECONDS"])),
            wait_seconds=float(config["IDEMPOTENCY_WAIT_SECONDS"]),
            keys_per_day=int(config["MAX_IDEMPOTENCY_KEYS_PER_USER_PER_DAY"]),
            create=lambda todo_id: _create(owner, {**fields, "_id": todo_id}),
            records=idempotency_records,
        )
        response = _send(stored)
        if replayed:
            response.headers["Idempotent-Replayed"] = "true"
        return response


@blp.route("/<todo_id>")
class TodoById(MethodView):
    @authenticated(blp)
    @blp.response(200, TodoSchema(), headers=_ETAG)
    @blp.alt_response(304, description="Not Modified: If-None-Match names it", headers=_ETAG)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.doc(operationId="getTodo", parameters=[_IF_NONE_MATCH])
    def get(self, todo_id: str) -> Any:
        """Get one of the caller's todos"""
        todo = _owned(todo_id)
        etag = etag_for(todo)
        if not_modified(etag):
            return Response(status=304, headers={"ETag": etag})
        return todo, {"ETag": etag}

    @authenticated(blp)
    @blp.arguments(TodoUpdateSchema())
    @blp.response(200, TodoSchema(), headers=_ETAG)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    @blp.alt_response(428, response="PRECONDITION_REQUIRED")
    @blp.doc(operationId="updateTodo", parameters=[_IF_MATCH, _IF_NONE_MATCH_WRITE])
    def patch(self, changes: dict[str, Any], todo_id: str) -> Any:
        """Change some fields of a todo (If-Match required)"""
        return _update(todo_id, changes)

    @authenticated(blp)
    @blp.arguments(TodoReplaceSchema())
    @blp.response(200, TodoSchema(), headers=_ETAG)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    @blp.alt_response(428, response="PRECONDITION_REQUIRED")
    @blp.doc(operationId="replaceTodo", parameters=[_IF_MATCH, _IF_NONE_MATCH_WRITE])
    def put(self, fields: dict[str, Any], todo_id: str) -> Any:
        """Replace a todo; fields left out get their defaults (If-Match required)"""
        return _update(todo_id, fields)

    @authenticated(blp)
    @blp.response(204)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(412, response="PRECONDITION_FAILED")
    @blp.doc(operationId="deleteTodo", parameters=[_IF_MATCH_OPTIONAL, _IF_NONE_MATCH_WRITE])
    def delete(self, todo_id: str) -> Any:
        """Delete a todo (If-Match honoured when sent)"""
        object_id = _object_id(todo_id)
        versions = if_match_versions(todo_id, required=False)
        owner = current_subject()
        refused = _refused_versions(todo_id, owner, object_id)
        if not todos.delete_if_version(
            owner=owner, todo_id=object_id, versions=versions, refused=refused
        ):
            _not_found_or_stale(owner, object_id)
        return "", 204


def _create(owner: str, fields: dict[str, Any]) -> StoredResponse:
    try:
        todo = todos.create(
            document=to_document(owner, fields, now=utc_now()),
            limit=int(current_app.config["MAX_TODOS_PER_USER"]),
        )
    except TodoLimitReachedError as reached:
        raise Problem(
            409,
            f"You have {reached.limit} todos, as many as one may have. Delete some first.",
            code="todo_limit_reached",
        ) from None
    body = current_app.json.dumps(_TODO_SCHEMA.dump(todo))
    location = url_for("todos.TodoById", todo_id=str(todo["_id"]))
    return StoredResponse(status=201, body=body, headers={"Location": location, **_etag(todo)})


def _send(stored: StoredResponse) -> Response:
    return current_app.response_class(
        stored.body, status=stored.status, headers=stored.headers, mimetype="application/json"
    )


def _update(todo_id: str, changes: dict[str, Any]) -> Any:
    object_id = _object_id(todo_id)
    versions = if_match_versions(todo_id, required=True)
    owner = current_subject()
    refused = _refused_versions(todo_id, owner, object_id)
    todo = todos.update_if_version(
        owner=owner, todo_id=object_id, versions=versions, changes=changes, refused=refused
    )
    if todo is None:
        _not_found_or_stale(owner, object_id)
    return todo, _etag(todo)


def _etag(todo: Document) -> dict[str, str]:
    return {"ETag": etag_for(todo)}


def _object_id(todo_id: str) -> ObjectId:
    object_id = parse_object_id(todo_id)
    if object_id is None:
        _not_found()
    return object_id


def _owned(todo_id: str) -> Document:
    todo = todos.get_for_owner(owner=current_subject(), todo_id=_object_id(todo_id))
    if todo is None:
        _not_found()
    return todo


def _refused_versions(todo_id: str, owner: str, object_id: ObjectId) -> list[int]:
    """What If-None-Match refuses; ``*`` refuses the todo whatever its version (412 if it
    exists, else 404)."""
    refused = if_none_match_versions(todo_id)
    if refused is None:
        _not_found_or_stale(owner, object_id)
    return refused


def _not_found_or_stale(owner: str, object_id: ObjectId) -> NoReturn:
    if todos.get_for_owner(owner=owner, todo_id=object_id) is None:
        _not_found()
    raise Problem(
        412,
        "The todo is not as If-Match or If-None-Match requires; read it again and retry.",
        code="precondition_failed",
    )


def _not_found() -> NoReturn:
    # The same answer for another user's todo, a deleted one and a malformed id (no oracle).
    raise Problem(404, "No todo with this id.", code="todo_not_found")
