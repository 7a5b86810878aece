from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Configuration blocks reject unknown fields, so a typo is an error with its line, not a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True)
