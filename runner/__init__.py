"""campaign-guard: keep CRM marketing campaigns safe, as code."""

from __future__ import annotations

__version__ = "0.1.0"
