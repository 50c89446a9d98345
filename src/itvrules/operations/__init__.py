"""Operations: work orders derived from the lifecycle, and terminal stock (SPEC §6-8)."""

from __future__ import annotations

from ._stock import DEPOT_PREFIX, Condition, Stock, StockError, Terminal
from ._workorders import (
    CLOSED_STATUSES,
    DATE_DETAILS,
    DETAIL_FIELDS,
    HIGH,
    NORMAL,
    STEP_PREFIX,
    WORK_ORDER_NAMESPACE,
    WorkOrder,
    WorkOrderKind,
    detail_fields,
    due_orders,
    is_date_detail,
    order_id,
    work_orders,
)

__all__ = [
    "CLOSED_STATUSES",
    "DATE_DETAILS",
    "DEPOT_PREFIX",
    "DETAIL_FIELDS",
    "HIGH",
    "NORMAL",
    "STEP_PREFIX",
    "WORK_ORDER_NAMESPACE",
    "Condition",
    "Stock",
    "StockError",
    "Terminal",
    "WorkOrder",
    "WorkOrderKind",
    "detail_fields",
    "due_orders",
    "is_date_detail",
    "order_id",
    "work_orders",
]
