"""Schemathesis set-up shared by the in-process and the live runs: config, real auth, checks.

Authentication is real: every credential comes from registering and logging in through auth's
API (a new account each time one is needed, since the fuzzer may log out, delete the account
or change its password), the revocation feed gets the shared service secret, and the admin
operations an administrator made with auth's own `create-admin` command.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from schemathesis import Case, CheckContext, Response
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES
from schemathesis.core.failures import FailureGroup
from tests.support.devdb import ROOT
from tests.support.services import FEED_TOKEN

#: Examples per operation in the fuzzing phase (coverage and examples phases add their own).
#: Small: the whole suite runs on every push; CONTRACT_MAX_EXAMPLES=500 for a deep local run.
MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "10"))
SEED = int(os.environ.get("CONTRACT_SEED", "1066"))


def config(*, coverage_phase: bool = True) -> schemathesis.Config:
    """Every default check on; bounded examples; no cache written into the repo.

    The coverage phase (deterministic boundary and negative cases, hundreds per operation)
    runs in process; the live run, over HTTP with gunicorn, keeps the examples and fuzzing
    phases so that the suite stays within its time budget.
    """
    return schemathesis.Config.from_dict(
        {
            "generation": {"max-examples": MAX_EXAMPLES},
            "phases": {"coverage": {"enabled": coverage_phase}},
            "cache": {"enabled": False},
            # Schema-violating data may also be refused with 413: a body over MAX_CONTENT_LENGTH
            # (e.g. notes of 10,000 four-byte characters) is rejected before it is parsed.
            "checks": {
                "negative_data_rejection": {
                    "expected-statuses": [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, 413]
                }
            },
            # A fixed seed: CI finds the same cases every run, so a recorded bug is either
            # still there or fixed, never "not found this time". CONTRACT_SEED=<n> explores.
            "seed": SEED,
        }
    )


@dataclass(frozen=True)
class Credentials:
    access_token: str
    refresh_token: str


#: Stands for "log in when the case runs": schemathesis builds its coverage-phase cases, auth
#: included, while pytest collects, before any server (or fixture) exists.
PENDING = Credentials("pending-login", "pending-login")


#: Operations whose every case gets a new account: after these the caller's tokens may no
#: longer work, or (POST /todos) an Idempotency-Key the fuzzer repeats with another body is
#: rightly refused with 422, since keys are remembered per user.
FRESH_ACCOUNT_PER_CASE = frozenset(
    {
        "POST /auth/logout",
        "POST /auth/refresh",
        "DELETE /auth/me",
        "POST /auth/me/password",
        "POST /todos",
    }
)


@dataclass
class Logins:
    """Where credentials come from for the test being run (set by its fixtures).

    ``user`` registers and logs in a new account; ``admin`` logs in an administrator (auth
    only). One account serves every case of an operation, except for the operations that
    need it (FRESH_ACCOUNT_PER_CASE), whose every case gets a new one.
    """

    user: Callable[[], Credentials] | None = None
    admin: Callable[[], Credentials] | None = None
    _cached: dict[str, Credentials] = field(default_factory=dict)

    def use(
        self, user: Callable[[], Credentials], admin: Callable[[], Credentials] | None = None
    ) -> None:
        self.user, self.admin = user, admin
        self._cached.clear()

    def forget(self) -> None:
        self.user = self.admin = None
        self._cached.clear()

    def credentials(self, label: str) -> Credentials:
        if self.user is None:
            return PENDING
        if self.admin is not None and label.split(" ", 1)[1].startswith("/auth/users"):
            if "admin" not in self._cached:
                self._cached["admin"] = self.admin()
            return self._cached["admin"]
        if label in FRESH_ACCOUNT_PER_CASE:
            return self.user()
        if "user" not in self._cached:
            self._cached["user"] = self.user()
        return self._cached["user"]

    def log_in(self, case: Case) -> None:
        """Replace a pending credential (from collection time) with a real login."""
        header = (case.headers or {}).get("Authorization")
        if header == f"Bearer {PENDING.access_token}":
            set_credentials(case, self.credentials(case.operation.label))


class RealAuth:
    """Schemathesis auth provider: tokens from auth's /auth/register + /auth/login.

    Registered without schemathesis' cache: Logins decides when a new login is needed.
    """

    logins: Logins

    def get(self, case: Case, ctx: Any) -> Credentials:
        return self.logins.credentials(case.operation.label)

    def set(self, case: Case, data: Credentials, ctx: Any) -> None:
        set_credentials(case, data)


def set_credentials(case: Case, data: Credentials) -> None:
    path = case.operation.path
    if path == "/auth/revocations" and data is not PENDING:
        token = FEED_TOKEN  # the shared service secret, not a user's token
    elif path == "/auth/refresh":
        token = data.refresh_token  # the refresh operation takes the refresh token
    else:
        token = data.access_token
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


def published_schema(service: str, *, coverage_phase: bool = True) -> tuple[Any, Logins]:
    """The committed spec of ``service`` as a schemathesis schema, with real auth attached.

    Fuzzing the committed file tests what clients rely on; test_published_specs.py makes
    sure it is what the code serves.
    """
    schema = schemathesis.openapi.from_path(
        ROOT / "services" / service / "openapi.json", config=config(coverage_phase=coverage_phase)
    )
    logins = Logins()
    provider = type(f"{service.title()}RealAuth", (RealAuth,), {"logins": logins})
    schema.auth(refresh_interval=None)(provider)
    return schema, logins


@schemathesis.check
def status_is_documented_explicitly(ctx: CheckContext, response: Response, case: Case) -> None:
    """The status is listed for the operation itself, not only covered by `default`.

    Every operation documents `default` (flask-smorest's DEFAULT_ERROR), which makes the
    built-in status_code_conformance accept any status; the contract promises more.
    """
    if case.method.upper() != case.operation.method.upper():
        return  # an unsupported-method probe: the built-in unsupported_method check judges it
    documented = set(case.operation.definition.raw.get("responses", {})) - {"default"}
    status = str(response.status_code)
    wildcard = status[0] + "XX"
    if status not in documented and wildcard not in documented:
        raise AssertionError(
            f"{case.operation.label} answered {status}, which its spec does not list "
            f"(documented: {', '.join(sorted(documented))})"
        )


@schemathesis.check
def errors_are_problem_documents(ctx: CheckContext, response: Response, case: Case) -> None:
    """Every 4xx/5xx is an RFC 9457 problem with the shared fields."""
    if response.status_code < 400:
        return
    content_type = response.headers.get("content-type", [""])[0].split(";")[0].strip()
    if content_type != "application/problem+json":
        raise AssertionError(f"{response.status_code} with Content-Type {content_type!r}")
    body = response.json()
    missing = {"type", "title", "status", "detail", "code"} - set(body)
    if missing or body["status"] != response.status_code:
        raise AssertionError(f"not a problem document (missing {sorted(missing)}): {body}")


@dataclass(frozen=True)
class KnownBug:
    """A failure schemathesis finds in a service, recorded until the service is fixed.

    ``check`` is the failure code schemathesis prints (ST202, ST901...); ``evidence`` a piece of
    the report (response body or message) that identifies this bug and no other.
    """

    operation: str
    check: str
    evidence: str
    reason: str
    #: The runs that meet it with the fixed seed ("in-process", "live").
    runs: frozenset[str] = frozenset({"in-process", "live"})


class KnownServiceBugError(AssertionError):
    """Every failure of a case is a recorded KnownBug (the test is xfail(strict=True) then)."""


def known_bugs_for(node_name: str, bugs: list[KnownBug], run: str) -> list[KnownBug]:
    """The bugs recorded for the operation of a test named like 'test_api[POST /todos]'."""
    label = node_name.partition("[")[2].rstrip("]")
    return [bug for bug in bugs if bug.operation == label and run in bug.runs]


#: Where a test keeps the bugs recorded for its operation (read by tests/contract/conftest.py).
KNOWN_BUGS_KEY = pytest.StashKey[list[KnownBug]]()


def expect_known_bugs(request: Any, bugs: list[KnownBug], run: str) -> list[KnownBug]:
    """The recorded bugs of the running test's operation; conftest.py then makes the test a
    strict xfail: xfailed when only these fail, failed when another failure shows up or when
    one of these no longer reproduces (remove it from the list then)."""
    found = known_bugs_for(request.node.name, bugs, run)
    request.node.stash[KNOWN_BUGS_KEY] = found
    return found


_COMMON_PASSWORD = "This password is too common; choose another."
_RESPONSE_BODY = re.compile(r"^\s*`(\{.*\})`$", re.MULTILINE)


def only_common_password_refused(report: str, codes: set[str]) -> bool:
    """A schema-valid body refused only because a password is on auth's common list.

    auth refuses those with 422 (SECURITY.md, OWASP password storage), a denylist no JSON
    Schema can express, so positive_data_acceptance cannot know; every other field of the
    same request must still have been accepted.
    """
    if codes != {"ST202"}:
        return False
    for body in _RESPONSE_BODY.findall(report):
        errors = json.loads(body).get("errors", {}).get("json", {})
        if errors and all(messages == [_COMMON_PASSWORD] for messages in errors.values()):
            return True
    return False


def only_unknown_link_token_refused(report: str, codes: set[str]) -> bool:
    """A schema-valid request refused only because its token is not one auth mailed.

    A reset or verification token is a secret auth makes and sends by mail: no schema can
    generate a live one, so positive_data_acceptance sees 400 `invalid_token`, as any client
    with a made-up token must (the flows themselves: tests/integration/auth/test_auth_recovery.py).
    """
    if codes != {"ST202"}:
        return False
    bodies = [json.loads(body) for body in _RESPONSE_BODY.findall(report)]
    return bool(bodies) and all(body.get("code") == "invalid_token" for body in bodies)


_BOTH_WAYS = {"query": {"after": ["Send after or page, not both."]}}


def only_unmade_cursor_refused(report: str, codes: set[str]) -> bool:
    """A schema-valid list request refused only for its cursor.

    A cursor (``after``) is signed by the service and bound to its list: no schema can
    generate a live one, so positive_data_acceptance sees 400 `invalid_cursor`, as any client
    with a made-up cursor must; and ``after`` with the deprecated ``page`` is a 422 that no
    OpenAPI 3.0 parameter list can express (the flows: tests/integration/todo/test_todo_list.py).
    """
    if codes != {"ST202"}:
        return False
    bodies = [json.loads(body) for body in _RESPONSE_BODY.findall(report)]
    return bool(bodies) and all(
        body.get("code") == "invalid_cursor" or body.get("errors") == _BOTH_WAYS for body in bodies
    )


def _run(call: Callable[[], Any], known: list[KnownBug]) -> None:
    try:
        call()
    except FailureGroup as group:
        report = str(group) + "".join(str(failure) for failure in group.exceptions)
        codes = {failure.code for failure in group.exceptions}
        if any(
            accepted(report, codes)
            for accepted in (
                only_common_password_refused,
                only_unknown_link_token_refused,
                only_unmade_cursor_refused,
            )
        ):
            return
        matched = {bug.check for bug in known if bug.evidence in report}
        if known and codes <= matched:
            raise KnownServiceBugError(
                "known service bug(s): " + "; ".join(bug.reason for bug in known)
            ) from group
        raise


def call_in_process(
    case: Case, app: Any, logins: Logins, known: list[KnownBug] | None = None
) -> None:
    """Send ``case`` to the WSGI ``app`` and run every check (the checks' probes too)."""
    # The schema comes from a file; bind the app so that the requests some checks send on
    # their own (ignored_auth, unsupported_method...) reach it as well.
    case.operation.schema.app = app
    case.operation.app = app
    logins.log_in(case)
    _run(case.call_and_validate, known or [])


def call_live(
    case: Case, base_url: str, logins: Logins, known: list[KnownBug] | None = None
) -> None:
    """Send ``case`` to a running server over HTTP and run every check."""
    logins.log_in(case)

    def call_and_validate() -> None:
        response = case.call(base_url=base_url)
        if not _over_the_request_line_limit(response):
            case.validate_response(response)

    _run(call_and_validate, known or [])


#: gunicorn's request-line limit (factory_core.runtime.gunicorn_config: the most gunicorn allows).
REQUEST_LINE_LIMIT = 8190


def _over_the_request_line_limit(response: Any) -> bool:
    """Whether gunicorn itself refused the request line as too long (414, before any app): a
    query argument within its maxLength can exceed the limit once percent-encoded (2,048
    non-ASCII characters of a cursor). Clients meet this from any HTTP server or proxy; the
    operations guide lists it among the limits."""
    line = f"{response.request.method} {response.request.path_url} HTTP/1.1"
    if response.status_code != 414:
        return False
    assert len(line) > REQUEST_LINE_LIMIT, (len(line), response.text[:200])
    return True


#: Service bugs schemathesis found and that are not fixed yet (none now): each entry makes its
#: test a strict xfail, so a fix shows up as an XPASS to remove from here.
AUTH_KNOWN_BUGS: list[KnownBug] = []
TODO_KNOWN_BUGS: list[KnownBug] = []
