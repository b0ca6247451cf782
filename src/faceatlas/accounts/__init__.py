"""Users, roles, Argon2 passwords, web sessions, revocable API tokens, search rate limits."""

from faceatlas.accounts.ratelimit import RateLimiter
from faceatlas.accounts.roles import Role
from faceatlas.accounts.service import Accounts, Credential, IssuedToken, TokenKind, User

__all__ = ["Accounts", "Credential", "IssuedToken", "RateLimiter", "Role", "TokenKind", "User"]
