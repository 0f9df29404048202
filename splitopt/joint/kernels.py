"""The numba kernel of the joint per-request DP: :func:`joint_route_kernel` (its
states, transitions and cost are documented in :mod:`splitopt.placement.joint_dp`,
where it lives so that the online simulator's kernel can call it too)."""

from __future__ import annotations

from splitopt.placement.joint_dp import joint_route_kernel

__all__ = ["joint_route_kernel"]
