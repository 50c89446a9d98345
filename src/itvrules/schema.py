"""Column names and their types on every target: Polars, Arrow and Spark SQL, in one public place.

A job that builds the library's inputs or reads its outputs takes the names
and types from here instead of the private modules. Names read
``<frame>_<target>``: ``ENROLLMENT_POLARS`` is the enrolment frame's columns
with their Polars types, ``BILL_EXPORT_ARROW`` the bill export's Arrow
schema, ``ENROLLMENT_SPARK`` the enrolment frame's Spark SQL type names (so
importing this module never imports pyspark) and ``ENROLLMENT_DDL`` the same
as a DDL string (``spark.read.schema(ENROLLMENT_DDL)``).
"""

from __future__ import annotations

from .frames._eligibility import ELIGIBILITY_DECISION_COLUMNS
from .frames._eligibility import SUBSCRIBER_COLUMNS as SUBSCRIBER_POLARS
from .frames._fees import DECISION_COLUMNS as FEE_DECISION_COLUMNS
from .frames._fees import ENROLLMENT_COLUMNS as ENROLLMENT_POLARS
from .runs._arrow import EXPORT_SCHEMA as BILL_EXPORT_ARROW
from .runs._common import BILL_COLUMNS as BILL_EXPORT_COLUMNS
from .runs._common import ELIGIBILITY_COLUMNS as ELIGIBILITY_EXPORT_COLUMNS
from .runs._rejects import REJECT_COLUMNS
from .spark._bill import REJECT_FIELDS, REJECT_SOURCE
from .spark._eligibility import ELIGIBILITY_TYPES as ELIGIBILITY_DECISION_SPARK
from .spark._eligibility import SUBSCRIBER_COLUMNS as SUBSCRIBER_SPARK
from .spark._eligibility import SUBSCRIBER_DDL
from .spark._fees import DECISION_TYPES as FEE_DECISION_SPARK
from .spark._fees import ENROLLMENT_COLUMNS as ENROLLMENT_SPARK
from .spark._fees import ENROLLMENT_DDL
from .spark._fees import EXPORT_TYPES as BILL_EXPORT_SPARK

__all__ = [
    "BILL_EXPORT_ARROW",
    "BILL_EXPORT_COLUMNS",
    "BILL_EXPORT_SPARK",
    "ELIGIBILITY_DECISION_COLUMNS",
    "ELIGIBILITY_DECISION_SPARK",
    "ELIGIBILITY_EXPORT_COLUMNS",
    "ENROLLMENT_DDL",
    "ENROLLMENT_POLARS",
    "ENROLLMENT_SPARK",
    "FEE_DECISION_COLUMNS",
    "FEE_DECISION_SPARK",
    "REJECT_COLUMNS",
    "REJECT_FIELDS",
    "REJECT_SOURCE",
    "SUBSCRIBER_DDL",
    "SUBSCRIBER_POLARS",
    "SUBSCRIBER_SPARK",
]
