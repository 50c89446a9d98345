"""Operations: work orders and the cancellation list derived from the lifecycle, first-month
viewing, call results, and terminal stock."""

from __future__ import annotations

from ._calls import CALL_FIELDS, CallVocabulary, call_event, call_vocabulary
from ._cancellations import (
    BEFORE_INSTALL,
    STEPS_DONE,
    TERMINALS_RECOVERED,
    CancellationList,
    CancellationStep,
    cancellation_list,
    cancellation_steps,
    step_code,
    step_event,
)
from ._names import NAMES, bilingual, chinese_name, owner_in_english
from ._stock import DEPOT_PREFIX, Condition, Stock, StockError, Terminal
from ._viewing import FirstMonthViewing, first_month_viewing, first_month_window
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
    "BEFORE_INSTALL",
    "CALL_FIELDS",
    "CLOSED_STATUSES",
    "DATE_DETAILS",
    "DEPOT_PREFIX",
    "DETAIL_FIELDS",
    "HIGH",
    "NAMES",
    "NORMAL",
    "STEPS_DONE",
    "STEP_PREFIX",
    "TERMINALS_RECOVERED",
    "WORK_ORDER_NAMESPACE",
    "CallVocabulary",
    "CancellationList",
    "CancellationStep",
    "Condition",
    "FirstMonthViewing",
    "Stock",
    "StockError",
    "Terminal",
    "WorkOrder",
    "WorkOrderKind",
    "bilingual",
    "call_event",
    "call_vocabulary",
    "cancellation_list",
    "cancellation_steps",
    "chinese_name",
    "detail_fields",
    "due_orders",
    "first_month_viewing",
    "first_month_window",
    "is_date_detail",
    "order_id",
    "owner_in_english",
    "step_code",
    "step_event",
    "work_orders",
]
