"""Append-only, hash-chained audit log of searches and administrative actions."""

from faceatlas.audit.log import AuditEntry, AuditEvent, AuditLog, ChainProblem, VerifyReport

__all__ = ["AuditEntry", "AuditEvent", "AuditLog", "ChainProblem", "VerifyReport"]
