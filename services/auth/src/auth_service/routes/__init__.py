"""The auth service's blueprints, in the order they appear in the OpenAPI document."""

from auth_service.routes.accounts import blp as accounts_blp
from auth_service.routes.feeds import blp as feeds_blp
from auth_service.routes.keys import blp as keys_blp
from auth_service.routes.me import blp as me_blp
from auth_service.routes.mfa import blp as mfa_blp
from auth_service.routes.recovery import blp as recovery_blp
from auth_service.routes.users import blp as users_blp

blueprints = [accounts_blp, mfa_blp, me_blp, recovery_blp, users_blp, keys_blp, feeds_blp]

__all__ = ["blueprints"]
