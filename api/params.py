"""Query parameters several routes share: the result limit, and the agencies a request may read."""

from __future__ import annotations

from typing import Annotated

from canhgac.api.auth import CurrentPrincipal
from canhgac.api.deps import DirectoryDep
from canhgac.api.problems import InvalidParameter
from canhgac.core.errors import NotFound
from fastapi import Depends, Path, Query

Limit = Annotated[int, Query(ge=1, le=500, description="At most this many results")]
# 128 characters stay within Elasticsearch's 512-byte limit on document ids, whatever the encoding.
ObjectId = Annotated[str, Path(min_length=1, max_length=128)]


async def requested_scope(principal: CurrentPrincipal, directory: DirectoryDep,
                          agency: Annotated[str | None, Query(max_length=64, description=(
                              "Only this agency and the agencies below it (within the caller's scope)"))] = None,
                          ) -> frozenset[str] | None:
    if agency is None:
        return principal.scope
    if agency not in directory.agencies:
        raise InvalidParameter("query.agency", f"unknown agency {agency!r}")
    if principal.scope is not None and agency not in principal.scope:
        raise NotFound(f"agency {agency!r} is outside your scope")
    subtree = directory.subtree(agency)
    return subtree if principal.scope is None else subtree & principal.scope


#: What to pass as ``agencies=`` to store queries.
RequestedScope = Annotated[frozenset[str] | None, Depends(requested_scope)]
