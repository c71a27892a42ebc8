"""API keys: random, shown once, stored only as a SHA-256 digest (a key is 256 random bits, so a
fast digest is enough: there is nothing to guess)."""

from __future__ import annotations

import hashlib
import secrets
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from api.db import ApiKey, KeyTeam, now

PREFIX = "aud_"


class Role(StrEnum):
    auditor = "auditor"  # submits, and reads every audit of the council
    manager = "manager"  # reads only the teams granted
    admin = "admin"  # manages keys


READERS = frozenset({Role.auditor, Role.manager})  # the roles that read audits


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(session: Session, role: Role, name: str, teams: list[str] | None = None) -> tuple[str, ApiKey]:
    """A new key (returned in plain text once, never stored) and its row."""
    teams = sorted({t.strip() for t in teams or [] if t.strip()})
    if role is Role.manager and not teams:
        raise ValueError("a manager's key needs at least one --team")
    if role is not Role.manager and teams:
        raise ValueError("only a manager's key is limited to teams")
    key = PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(name=name, role=role.value, prefix=key[: len(PREFIX) + 6], digest=digest(key))
    row.teams = [KeyTeam(team=t) for t in teams]
    session.add(row)
    session.flush()
    return key, row


def find_key(session: Session, key: str) -> ApiKey | None:
    """The live (not revoked) key with this plain text, if any."""
    row = session.scalars(select(ApiKey).where(ApiKey.digest == digest(key))).first()
    return row if row is not None and row.revoked_at is None else None


def revoke_key(session: Session, key_id: int) -> bool:
    row = session.get(ApiKey, key_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now()
    return True
