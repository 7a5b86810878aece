from __future__ import annotations

from fastapi import APIRouter

from api.deps import StoreDep
from api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Liveness; needs no API key")
def health(store: StoreDep) -> Health:
    return Health(store=store.kind)
