"""Request plumbing: what ``create_app`` put on ``app.state``, as typed dependency aliases.

Dependencies that never block are ``async``: FastAPI runs a plain ``def`` dependency in the thread pool, and a
thread hop per dependency cost more than the whole incident query on list pages (see bench/api.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.incidents.service import IncidentService
from canhgac.storage.base import Store
from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

T = TypeVar("T")


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_store(request: Request) -> Store:
    return request.app.state.store


async def get_directory(request: Request) -> Directory:
    return request.app.state.directory


async def get_incident_service(request: Request) -> IncidentService:
    return request.app.state.incidents


async def get_clock(request: Request) -> Callable[[], datetime]:
    return request.app.state.incidents.clock


async def read_store(store: Store, read: Callable[..., T], *args: Any) -> T:
    """Run ``read`` (store reads and what is built from them) from an ``async`` route: on the event loop for the
    embedded store, whose indexed reads take a fraction of a millisecond and never wait for a writer (WAL), and in
    the thread pool for a store across the network. With 32 callers, 32 pool threads taking turns at the GIL
    made the list's slowest answers several times its median (docs/decisions/0038)."""
    if store.kind == "sqlite":
        return read(*args)
    return await run_in_threadpool(read, *args)


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
DirectoryDep = Annotated[Directory, Depends(get_directory)]
ServiceDep = Annotated[IncidentService, Depends(get_incident_service)]
ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]
