"""File formats, kept apart from the algorithms (as vrplib is for PyVRP).

- ``splitopt-problem`` v1: :func:`read_problem`, :func:`write_problem`
- ``splitopt-solution`` v1: :func:`write_solution`, :func:`read_placements`
- ``splitopt-scenario`` v1: :func:`read_scenario`, :func:`write_scenario`
- ``splitopt-profile`` v1: :mod:`splitopt.formats.profile_file`
- ``splitopt-cluster`` v1 (JSON <-> ``ClusterSpec``): :mod:`splitopt.formats.cluster_file`
- ``splitopt-placement`` v1: :mod:`splitopt.formats.placement_file`
- ``splitopt-simulation`` v1 (``simulate --json``): :mod:`splitopt.formats.simulation_file`
- any input file into a problem: :func:`read_any` (:mod:`splitopt.formats.read`)
- checking any file by its kind (``splitopt validate``): :mod:`splitopt.formats.validate`
- JSON Schemas of every kind, each field described: :mod:`splitopt.formats.schemas`
"""

from splitopt.formats.errors import InputError, load_json
from splitopt.formats.problem_file import (
    problem_from_dict,
    problem_to_dict,
    read_problem,
    write_problem,
)
from splitopt.formats.read import compile_file, read_any
from splitopt.formats.scenario_file import (
    read_scenario,
    scenario_from_dict,
    scenario_to_dict,
    write_scenario,
)
from splitopt.formats.solution_file import (
    read_placements,
    solution_dumps,
    solution_to_dict,
    write_solution,
)

__all__ = [
    "InputError",
    "compile_file",
    "load_json",
    "problem_from_dict",
    "problem_to_dict",
    "read_any",
    "read_placements",
    "read_problem",
    "read_scenario",
    "scenario_from_dict",
    "scenario_to_dict",
    "solution_dumps",
    "solution_to_dict",
    "write_problem",
    "write_scenario",
    "write_solution",
]
