"""File formats, kept apart from the algorithms (as vrplib is for PyVRP).

- ``splitopt-problem`` v1: :func:`read_problem`, :func:`write_problem`
- ``splitopt-solution`` v1: :func:`write_solution`, :func:`read_placements`
- ``splitopt-scenario`` v1: :mod:`splitopt.formats.scenario_file`
"""

from splitopt.formats.errors import InputError, load_json
from splitopt.formats.problem_file import (
    problem_from_dict,
    problem_to_dict,
    read_problem,
    write_problem,
)
from splitopt.formats.solution_file import (
    read_placements,
    solution_dumps,
    solution_to_dict,
    write_solution,
)

__all__ = [
    "InputError",
    "load_json",
    "problem_from_dict",
    "problem_to_dict",
    "read_placements",
    "read_problem",
    "solution_dumps",
    "solution_to_dict",
    "write_problem",
    "write_solution",
]
