from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.security_event_actor import SecurityEventActor
from ..types import UNSET, Unset

T = TypeVar("T", bound="SecurityEvent")


@_attrs_define
class SecurityEvent:
    """
    Attributes:
        actor (SecurityEventActor | Unset): Whose request it was: the account's own, or an administrator's.
        address (str | Unset): The requesting network: a /24 (IPv4) or /64 (IPv6).
        at (datetime.datetime | Unset):
        client (str | Unset): The requesting client, coarsely.
        id (str | Unset):
        methods (list[str] | Unset): For sign_in: how (RFC 8176): pwd, and otp with a code.
        reason (str | Unset): For sign_in_failed: wrong_password, wrong_code or disabled. For session_ended: logout,
            ended (by the account or an administrator) or refresh_token_reused.
        session (None | str | Unset): The session it concerns (a session's id), if any.
        type_ (str | Unset): What happened. More types may be added: show unknown ones as such.
    """

    actor: SecurityEventActor | Unset = UNSET
    address: str | Unset = UNSET
    at: datetime.datetime | Unset = UNSET
    client: str | Unset = UNSET
    id: str | Unset = UNSET
    methods: list[str] | Unset = UNSET
    reason: str | Unset = UNSET
    session: None | str | Unset = UNSET
    type_: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        actor: str | Unset = UNSET
        if not isinstance(self.actor, Unset):
            actor = self.actor.value

        address = self.address

        at: str | Unset = UNSET
        if not isinstance(self.at, Unset):
            at = self.at.isoformat()

        client = self.client

        id = self.id

        methods: list[str] | Unset = UNSET
        if not isinstance(self.methods, Unset):
            methods = self.methods

        reason = self.reason

        session: None | str | Unset
        if isinstance(self.session, Unset):
            session = UNSET
        else:
            session = self.session

        type_ = self.type_

        field_dict: dict[str, Any] = {}

        field_dict.update({})
        if actor is not UNSET:
            field_dict["actor"] = actor
        if address is not UNSET:
            field_dict["address"] = address
        if at is not UNSET:
            field_dict["at"] = at
        if client is not UNSET:
            field_dict["client"] = client
        if id is not UNSET:
            field_dict["id"] = id
        if methods is not UNSET:
            field_dict["methods"] = methods
        if reason is not UNSET:
            field_dict["reason"] = reason
        if session is not UNSET:
            field_dict["session"] = session
        if type_ is not UNSET:
            field_dict["type"] = type_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _actor = d.pop("actor", UNSET)
        actor: SecurityEventActor | Unset
        if isinstance(_actor, Unset):
            actor = UNSET
        else:
            actor = SecurityEventActor(_actor)

        address = d.pop("address", UNSET)

        _at = d.pop("at", UNSET)
        at: datetime.datetime | Unset
        if isinstance(_at, Unset):
            at = UNSET
        else:
            at = datetime.datetime.fromisoformat(_at)

        client = d.pop("client", UNSET)

        id = d.pop("id", UNSET)

        methods = cast(list[str], d.pop("methods", UNSET))

        reason = d.pop("reason", UNSET)

        def _parse_session(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        session = _parse_session(d.pop("session", UNSET))

        type_ = d.pop("type", UNSET)

        security_event = cls(
            actor=actor,
            address=address,
            at=at,
            client=client,
            id=id,
            methods=methods,
            reason=reason,
            session=session,
            type_=type_,
        )

        return security_event
