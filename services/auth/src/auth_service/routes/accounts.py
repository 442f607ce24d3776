"""Accounts and sessions: register, log in (also as an OAuth2 token endpoint), refresh
(rotation), log out."""

from __future__ import annotations

from flask import Response, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint

from auth_service import mfa, security_log
from auth_service.origin import client_address
from auth_service.passwords import passwords
from auth_service.ratelimit import rate_limits
from auth_service.recovery import mail_verification, wants_verification
from auth_service.repositories import UsernameTakenError, users
from auth_service.repositories.users import username_key
from auth_service.routes.access import NO_STORE, NO_STORE_HEADERS
from auth_service.schemas import (
    LoginSchema,
    MfaChallengeSchema,
    RegisterSchema,
    TokenPairSchema,
    TokenRequestSchema,
    UserSchema,
    oauth_refusal,
)
from auth_service.sessions import end_sessions, rotate_refresh_token, start_session
from auth_service.tokens import PASSWORD, revoke_token, token_version
from factory_core import (
    Document,
    Problem,
    authenticated,
    current_account,
    current_claims,
    mongo,
    origin_allowed,
    unauthorized,
)

blp = Blueprint(
    "accounts", __name__, url_prefix="/auth", description="Register, log in, refresh, log out."
)

TokenAnswer = tuple[Document, int, dict[str, str]]


@blp.route("/register")
class Register(MethodView):
    @blp.arguments(RegisterSchema())
    @blp.response(201, UserSchema())
    @blp.alt_response(409, response="CONFLICT")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @blp.doc(operationId="registerUser")
    def post(self, data: Document) -> Document:
        """Create an account (role "user")"""
        rate_limits.hit(
            "register", address=client_address(), username=username_key(data["username"])
        )
        password_hash = passwords.hash(data["password"])  # slow: before the transaction

        def create() -> tuple[Document, bool]:
            # The account and its verification mail (a link to the address given, if any)
            # commit together: a failure between them must not leave an account whose link
            # is never sent, and whose retry is a 409.
            user = users.create(
                username=data["username"],
                password_hash=password_hash,
                email=data.get("email"),
                roles=["user"],
            )
            mailed = wants_verification(user)
            if mailed:
                mail_verification(user)
            return user, mailed

        try:
            user, mailed = mongo.transaction(create)
        except UsernameTakenError:
            raise Problem(409, "This username is taken.", code="username_taken") from None
        if mailed:
            # A new account's first mail, counted (the limiter writes outside transactions);
            # within any budget, so never refused.
            rate_limits.spend("mail", account=str(user["_id"]))
        return user


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema())
    @blp.response(200, TokenPairSchema(), headers=NO_STORE_HEADERS)
    @blp.alt_response(
        202,
        schema=MfaChallengeSchema(),
        headers=NO_STORE_HEADERS,
        description="The password is right and the account signs in with a second factor: "
        "send the challenge with a code to /auth/login/mfa.",
    )
    @blp.alt_response(401, response="UNAUTHORIZED")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @blp.doc(operationId="login")
    def post(self, data: Document) -> TokenAnswer | Response:
        """Log in: exchange a username and password for an access and a refresh token"""
        user = _sign_in(data)
        if user is None:
            raise unauthorized(INVALID_CREDENTIALS, code="invalid_credentials", error=None)
        if user.get("mfa"):
            # Another schema than the 200's: a response of its own (flask-smorest passes it on).
            answer = jsonify(MfaChallengeSchema().dump(mfa.challenge(user)))
            answer.status_code = 202
            answer.headers.update(NO_STORE)
            return answer
        return start_session(user, amr=[PASSWORD]), 200, NO_STORE


@blp.route("/token")
class Token(MethodView):
    @blp.arguments(TokenRequestSchema(), location="form")
    @blp.response(200, TokenPairSchema(), headers=NO_STORE_HEADERS)
    @blp.alt_response(400, response="BAD_REQUEST")
    @blp.alt_response(403, response="FORBIDDEN")
    @blp.alt_response(429, response="TOO_MANY_REQUESTS")
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @blp.doc(operationId="issueToken", security=[])
    def post(self, data: Document) -> TokenAnswer:
        """Log in with OAuth2's password grant, for Swagger UI's Authorize and first-party tools

        The same check, limits, session and tokens as /auth/login, from a form body (RFC 6749
        section 4.3). Refusals are 400s as RFC 6749 section 5.2 has them: the problem's `error`
        member is OAuth2's code (`invalid_grant` for wrong credentials or an account that signs
        in with a second factor, which the grant cannot carry: it logs in with /auth/login and
        /auth/login/mfa; `unsupported_grant_type`; `invalid_request` for a missing or invalid
        parameter, or one given twice, with per-field `errors`; unknown parameters are
        ignored) and
        `error_description` says why. A browser's
        request from a page of an origin this service does not allow (its own, CORS_ORIGINS)
        is a 403 `origin_refused`, before it counts against any limit. Client credentials
        (`client_id`, `client_secret`, HTTP Basic) are not needed and are ignored.
        """
        # A form POST is a "simple" request: browsers send it from any site without asking
        # CORS first. Refused before it counts, no site spends its visitors' login budget.
        origin = request.headers.get("Origin")
        if origin is not None and not origin_allowed(origin):
            raise Problem(
                403, "Requests from this page's origin are not accepted.", code="origin_refused"
            )
        user = _sign_in(data)
        if user is None:
            raise oauth_refusal(
                INVALID_CREDENTIALS, error="invalid_grant", code="invalid_credentials"
            )
        if user.get("mfa"):
            raise oauth_refusal(
                "This account signs in with a second factor, which the password grant cannot "
                "carry: log in with /auth/login and /auth/login/mfa.",
                error="invalid_grant",
                code="mfa_required",
            )
        return start_session(user, amr=[PASSWORD]), 200, NO_STORE


INVALID_CREDENTIALS = "Invalid username or password."


def _sign_in(data: Document) -> Document | None:
    """The account that ``data``'s username and password open, counted against the login
    rate limits (429 once spent), a failed attempt on an account logged; else None."""
    address, key = client_address(), username_key(data["username"])
    rate_limits.hit("login", address=address)
    user = users.find_by_username(username=data["username"])
    # The per-username limit slows guessing down; an address this account has logged in
    # from is exempt, so a stranger exhausting it cannot lock the owner out.
    if not rate_limits.trusted.is_trusted(username_key=key, address=address, user=user):
        rate_limits.hit("login", username=key)
    # Unknown users are checked against a dummy hash: same answer, about the same time.
    valid = passwords.verify(user["password_hash"] if user else None, data["password"])
    if user is not None and not user.get("deleting") and (not valid or user["disabled"]):
        reason = "disabled" if valid else "wrong_password"
        security_log.record(str(user["_id"]), security_log.SIGN_IN_FAILED, reason=reason)
    if user is None or not valid or user["disabled"] or user.get("deleting"):
        return None
    if passwords.needs_rehash(user["password_hash"]):
        # Only over the hash just checked: a password changed meanwhile stays changed.
        users.replace_password_hash(
            user_id=user["_id"],
            checked_hash=user["password_hash"],
            password_hash=passwords.hash(data["password"]),
        )
    rate_limits.trusted.remember(
        username_key=key,
        address=address,
        user_id=user["_id"],
        token_version=token_version(user),
    )
    return user


@blp.route("/refresh")
class Refresh(MethodView):
    @authenticated(blp, refresh=True)
    @blp.response(200, TokenPairSchema(), headers=NO_STORE_HEADERS)
    @blp.alt_response(409, response="CONFLICT")
    @blp.doc(operationId="refreshTokens")
    def post(self) -> TokenAnswer:
        """Rotate a refresh token (sent as the bearer token) into a new token pair"""
        claims = current_claims()
        presented = request.headers["Authorization"].split(None, 1)[1]
        pair = rotate_refresh_token(claims, presented, current_account())
        if pair is None:
            # Reuse of a rotated token means it leaked: end the whole session (RFC 9700 4.14).
            def end() -> None:
                security_log.record(
                    claims["sub"], security_log.REFRESH_TOKEN_REUSED, session=claims["fid"]
                )
                end_sessions(claims["sub"], [claims["fid"]], reason="refresh_token_reused")

            mongo.transaction(end)
            raise unauthorized(
                "The refresh token was already used; the session is revoked.",
                code="refresh_token_reused",
            )
        return pair, 200, NO_STORE


@blp.route("/logout")
class Logout(MethodView):
    @authenticated(blp)
    @blp.response(204)
    @blp.doc(operationId="logout")
    def post(self) -> None:
        """Log out: revoke this access token and every token of its session"""
        claims = current_claims()

        def log_out() -> None:
            revoke_token(claims)
            end_sessions(claims["sub"], [claims["fid"]], reason="logout")

        mongo.transaction(log_out)
