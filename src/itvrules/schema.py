"""Column names and Spark SQL types of the Spark backend's frames, for a job that builds or reads them.

A cluster job builds its input with these (``spark.read.schema(ENROLLMENT_DDL)``,
``spark.createDataFrame(rows, schema=ENROLLMENT_DDL)``, ``F.col(name).cast(kind)``)
and can declare the tables it writes from them, without reaching into the
library's private modules. Types are Spark SQL type names, so importing this
module never imports pyspark.
"""

from __future__ import annotations

from ._spark_eligibility import ELIGIBILITY_TYPES, SUBSCRIBER_COLUMNS, SUBSCRIBER_DDL
from ._spark_frames import (
    DECISION_TYPES,
    ENROLLMENT_COLUMNS,
    ENROLLMENT_DDL,
    EXPORT_TYPES,
    REJECT_FIELDS,
    REJECT_SOURCE,
)

__all__ = [
    "DECISION_TYPES",
    "ELIGIBILITY_TYPES",
    "ENROLLMENT_COLUMNS",
    "ENROLLMENT_DDL",
    "EXPORT_TYPES",
    "REJECT_FIELDS",
    "REJECT_SOURCE",
    "SUBSCRIBER_COLUMNS",
    "SUBSCRIBER_DDL",
]
