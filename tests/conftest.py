"""Shared test set-up: hypothesis profiles chosen by an environment variable, one Spark session.

``ITVRULES_HYPOTHESIS_PROFILE`` picks ``dev`` (quick), ``ci`` (thorough, the
default when ``CI`` is set) or ``deep`` (for hunting).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "ci", max_examples=400, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("deep", max_examples=5000, deadline=None)
settings.load_profile(
    os.environ.get("ITVRULES_HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)


def _spark_missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "pyspark is not installed (pip install -e '.[dev]' or '.[spark]')"
    java_home = os.environ.get("JAVA_HOME")
    if shutil.which("java") is None and not (java_home and Path(java_home, "bin", "java").exists()):
        return "Java is missing: Spark needs a JRE (apt-get install default-jre-headless)"
    return None


DURABLE_ABSENT = (
    "durable-rules does not run on Python 3.13 (its extension does not import): "
    "the durable engine is tested on 3.11 and 3.12"
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """On 3.13 skip what needs durable-rules: a test marked ``durable`` or run with "durable".

    On 3.11 and 3.12 nothing is skipped: a missing durable-rules fails those tests loudly.
    """
    if sys.version_info < (3, 13):
        return
    skip = pytest.mark.skip(reason=DURABLE_ABSENT)
    for item in items:
        callspec = getattr(item, "callspec", None)
        values = callspec.params.values() if callspec is not None else ()
        if item.get_closest_marker("durable") or any(
                isinstance(value, str) and value == "durable" for value in values):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """One local[2] Spark session for every test that asks: a JVM costs seconds to start.

    Without pyspark or Java the Spark tests are skipped, except in CI, where
    they fail: they must run there.
    """
    problem = _spark_missing()
    if problem is not None:
        if os.environ.get("CI"):
            pytest.fail(f"the Spark tests must run in CI: {problem}")
        pytest.skip(problem)
    from pyspark.sql import SparkSession

    with pytest.MonkeyPatch.context() as env:
        # Spark binds to loopback only (and stops warning about the host name).
        env.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        # The Python workers must be this interpreter: Spark refuses a worker of another
        # minor version (a 3.13 suite would otherwise start the PATH's 3.11 workers).
        env.setenv("PYSPARK_PYTHON", sys.executable)
        session = (
            SparkSession.builder.master("local[2]")
            .appName("itvrules-tests")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", "2")
            # Rows built from Python lists are unpickled by Python workers: use this
            # interpreter, not whichever python3 is first on PATH.
            .config("spark.pyspark.python", sys.executable)
            .getOrCreate()
        )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
