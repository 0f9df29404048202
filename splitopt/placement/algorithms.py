"""The registered placement algorithms: each existing implementation behind the one
base class (:class:`~splitopt.placement.base.PlacementAlgorithm`), typed parameters
(:mod:`splitopt.placement.params`) and replayable results.

The implementations (:mod:`~splitopt.placement.cg`, :mod:`~splitopt.placement.petals`,
:mod:`~splitopt.placement.milp`, :mod:`~splitopt.placement.brute`) are unchanged; each
class here *is* one of them (a subclass, so ``isinstance`` and its attributes hold)
whose constructor first checks the options against its parameter family, so an
unknown or mistyped option is refused instead of dropped.
"""

from __future__ import annotations

from typing import Any, ClassVar

from splitopt.placement.base import PlacementAlgorithm
from splitopt.placement.brute import BPRRBrute
from splitopt.placement.cg import CGBPRR
from splitopt.placement.milp import (
    BPRRMilp,
    BPRRMilpCBC,
    BPRRMilpCPSAT,
    BPRRMilpHiGHS,
    BPRRMilpSCIP,
)
from splitopt.placement.model import Cluster
from splitopt.placement.params import BruteParams, CGParams, MilpParams, PetalsParams
from splitopt.placement.petals import Petals
from splitopt.placement.result import PlacementResult


class _Wrapped(PlacementAlgorithm):
    """An implementation class (``impl``) behind the base class: its constructor gets
    the checked options, its ``solve`` is :meth:`run`, its name/exact/description and
    ``available`` are the algorithm's."""

    impl: ClassVar[Any]  # the implementation class (cg.CGBPRR, petals.Petals, ...)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.impl.name
        cls.exact = cls.impl.exact
        cls.description = cls.impl.description

    def setup(self) -> None:
        self.impl.__init__(self, **self.params.kwargs())

    @classmethod
    def available(cls) -> bool:
        return bool(cls.impl.available())

    def run(self, cluster: Cluster) -> PlacementResult:
        return self.impl.solve(self, cluster)


class CGBPRRAlgorithm(_Wrapped, CGBPRR):
    impl = CGBPRR
    params_type = CGParams


class PetalsAlgorithm(_Wrapped, Petals):
    impl = Petals
    params_type = PetalsParams


class BPRRMilpAlgorithm(_Wrapped, BPRRMilp):
    """``bprr-milp``: any backend (``backend`` option)."""

    impl = BPRRMilp
    params_type = MilpParams

    def setup(self) -> None:
        kwargs = self.params.kwargs()
        backend = kwargs.pop("backend", None)
        BPRRMilp.__init__(self, **kwargs)
        if backend is not None:  # checked by the implementation itself
            self.backend = BPRRMilp(backend=backend).backend


class BPRRMilpHiGHSAlgorithm(_Wrapped, BPRRMilpHiGHS):
    impl = BPRRMilpHiGHS
    params_type = MilpParams


class BPRRMilpCBCAlgorithm(_Wrapped, BPRRMilpCBC):
    impl = BPRRMilpCBC
    params_type = MilpParams


class BPRRMilpCPSATAlgorithm(_Wrapped, BPRRMilpCPSAT):
    impl = BPRRMilpCPSAT
    params_type = MilpParams


class BPRRMilpSCIPAlgorithm(_Wrapped, BPRRMilpSCIP):
    impl = BPRRMilpSCIP
    params_type = MilpParams


class BPRRBruteAlgorithm(_Wrapped, BPRRBrute):
    impl = BPRRBrute
    params_type = BruteParams


__all__ = [
    "BPRRBruteAlgorithm",
    "BPRRMilpAlgorithm",
    "BPRRMilpCBCAlgorithm",
    "BPRRMilpCPSATAlgorithm",
    "BPRRMilpHiGHSAlgorithm",
    "BPRRMilpSCIPAlgorithm",
    "CGBPRRAlgorithm",
    "PetalsAlgorithm",
]
