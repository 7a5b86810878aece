from __future__ import annotations

from canhgac.api.deps import StoreDep
from canhgac.api.schemas import Health
from fastapi import APIRouter

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Liveness; needs no API key")
def health(store: StoreDep) -> Health:
    return Health(store=store.kind)
