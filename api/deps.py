"""Request plumbing: what ``create_app`` put on ``app.state``, as typed dependency aliases.

Dependencies that never block are ``async``: FastAPI runs a plain ``def`` dependency in the thread pool, and a
thread hop per dependency cost more than the whole incident query on list pages (see bench/api.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from canhgac.core.config import Settings
from canhgac.core.directory import Directory
from canhgac.incidents.service import IncidentService
from canhgac.storage.base import Store
from fastapi import Depends, Request


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


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
DirectoryDep = Annotated[Directory, Depends(get_directory)]
ServiceDep = Annotated[IncidentService, Depends(get_incident_service)]
ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]
