"""Register the test-only experiments (smoke, sleepy) with the harness."""

import tests.experiments.toy  # noqa: F401
