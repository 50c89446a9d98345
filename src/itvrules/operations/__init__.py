"""Operations: work orders derived from the lifecycle, and terminal stock (SPEC §6-8)."""

from __future__ import annotations

from ._stock import DEPOT_PREFIX, Condition, Stock, StockError, Terminal
from ._workorders import (
    CLOSED_STATUSES,
    HIGH,
    NORMAL,
    WORK_ORDER_NAMESPACE,
    WorkOrder,
    WorkOrderKind,
    due_orders,
    order_id,
    work_orders,
)

__all__ = [
    "CLOSED_STATUSES",
    "DEPOT_PREFIX",
    "HIGH",
    "NORMAL",
    "WORK_ORDER_NAMESPACE",
    "Condition",
    "Stock",
    "StockError",
    "Terminal",
    "WorkOrder",
    "WorkOrderKind",
    "due_orders",
    "order_id",
    "work_orders",
]
