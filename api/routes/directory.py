"""Who the caller is and which agencies they see."""

from __future__ import annotations

from canhgac.api.auth import CurrentPrincipal
from canhgac.api.deps import DirectoryDep
from canhgac.api.problems import problem_responses
from canhgac.api.schemas import AgencyOut, Me, SystemOut
from canhgac.core.config import Agency
from canhgac.core.directory import Directory
from fastapi import APIRouter

router = APIRouter(tags=["directory"], responses=problem_responses(401))


@router.get("/me", response_model=Me, summary="The signed-in caller")
def me(principal: CurrentPrincipal, directory: DirectoryDep) -> Me:
    agency = directory.agencies.get(principal.agency) if principal.agency else None
    return Me(name=principal.name, role=principal.role, sees_all=principal.scope is None,
              agency=principal.agency, agency_name_vi=agency.name_vi if agency else None,
              agency_name_en=agency.name_en if agency else None,
              scope=None if principal.scope is None else sorted(principal.scope))


@router.get("/agencies", response_model=list[AgencyOut], summary="The agencies in the caller's scope")
def agencies(principal: CurrentPrincipal, directory: DirectoryDep) -> list[AgencyOut]:
    return [_agency_out(a, directory) for a in directory.agencies.values()
            if principal.scope is None or a.id in principal.scope]


def _agency_out(agency: Agency, directory: Directory) -> AgencyOut:
    # The successor's name travels with the unit: it may lie outside the caller's scope (Bình Định's staff
    # do not see Gia Lai), yet the page labels the old unit "đã giải thể, nay thuộc …".
    successor = None if agency.is_current else directory.successor(agency.id)
    if successor is not None and successor.id == agency.id:
        successor = None
    return AgencyOut(**agency.model_dump(), current=agency.is_current,
                     successor=successor.id if successor else None,
                     successor_name_vi=successor.name_vi if successor else None,
                     successor_name_en=successor.name_en if successor else None)


@router.get("/systems", response_model=list[SystemOut],
            summary="The monitored information systems of the agencies in the caller's scope")
def systems(principal: CurrentPrincipal, directory: DirectoryDep) -> list[SystemOut]:
    return [SystemOut.of(s) for s in directory.systems.values()
            if principal.scope is None or s.agency in principal.scope]
