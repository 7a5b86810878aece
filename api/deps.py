"""Request plumbing: what ``create_app`` put on ``app.state``, as typed dependency aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from canhgac.config import Settings
from canhgac.directory import Directory
from storage.base import Store


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_directory(request: Request) -> Directory:
    return request.app.state.directory


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
DirectoryDep = Annotated[Directory, Depends(get_directory)]
