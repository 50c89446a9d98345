"""The public face of a loaded policy: eligibility, trial windows and fees."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engines import Engine

if TYPE_CHECKING:
    from ..authoring._lint import Finding
from .._errors import EngineUnavailable, InputError, UsageError
from .._extras import require
from .._words import quoted
from ..authoring._explain import Explanation, explain_table
from ..contract import RunChecks
from ..engines._compiled import CompiledEngine
from ..model._inputs import Enrollment, Subscriber
from ..model._money import ZERO
from ..model._months import last_day, month_index, month_text, parse_month
from ..model._results import Eligibility, FeeDecision, TrialWindow, trusted_eligibility, trusted_fee
from ..runs._common import BACKENDS
from ._assumptions import Assumption, placeholder_tariffs
from ._document import Package, PolicyDocument, Rule
from ._facts import Catalogue, eligibility_facts, fee_facts_from_key, fee_key
from ._resources import rulesets_dir
from ._rule_outputs import eligibility_template as _eligibility_template
from ._rule_outputs import fee_template as _fee_template
from ._versions import CampaignWindow, load_versions, pick

_log = logging.getLogger(__name__)

ENGINES = ("compiled", "durable")
#: The compiled evaluator is the default: it gives the same decisions as
#: durable-rules (a differential test holds them together) and runs about five
#: times faster per decision, ten with ``fees()`` (docs/performance.md).
DEFAULT_ENGINE = "compiled"

#: ``fees(backend=...)``: see ``Policy.fees``.
#: Rows ``fees()`` decides at a time with the columnar backend.
FEES_BATCH_ROWS = 1_000_000

_FeeOutcome = tuple[str, Decimal, Decimal, Decimal, str, str, "str | None", bool, str, str, str]


class Policy:
    """A validated campaign policy, compiled once and ready to decide."""

    def __init__(self, document: PolicyDocument, *, engine: str = DEFAULT_ENGINE,
                 versions: Sequence[PolicyDocument] = ()) -> None:
        self.document = document
        #: Every version of the policy loaded with it (a folder's), for the campaign window in
        #: force on an acceptance day; a single file is its own only version.
        self.windows: tuple[CampaignWindow, ...] = tuple(
            CampaignWindow(d.in_force_from, d.in_force_until, d.campaign_first_day, d.campaign_last_day)
            for d in (versions or (document,)))
        self.default_engine = _check_engine(engine)
        self._catalogue = Catalogue(document.families)
        self._engines: dict[str, Engine] = {}
        self._eligibility_results = tuple(_eligibility_template(r) for r in document.eligibility)
        self._fee_results = tuple(_fee_template(r) for r in document.fees)
        self._default_package = str(document.parameters["default_package"])
        self._provenance = (document.id, document.version, document.content_hash[:12])
        self._fees_checks: RunChecks | None = None
        self._placeholder_tariffs = placeholder_tariffs(document.assumptions, document.packages)

    # -- what the policy says -------------------------------------------------
    @property
    def id(self) -> str:
        return self.document.id

    @property
    def version(self) -> str:
        return self.document.version

    @property
    def title(self) -> str:
        return self.document.title

    @property
    def source(self) -> str:
        return self.document.source

    @property
    def content_hash(self) -> str:
        """SHA-256 of the policy's content (comments and layout do not count)."""
        return self.document.content_hash

    @property
    def campaign_window(self) -> tuple[date, date]:
        """First and last day an order may be accepted."""
        return self.document.campaign_first_day, self.document.campaign_last_day

    def campaign_window_on(self, accepted_on: date) -> tuple[date, date] | None:
        """The campaign window of the version in force on ``accepted_on``; None when none is."""
        for window in self.windows:
            if window.in_force(accepted_on):
                return window.first_day, window.last_day
        return None

    def lint(self) -> list[Finding]:
        """Every table checked over all its input classes: gaps, shadowed rules, parameters out
        of range, each with a witness (what ``itvrules policy lint`` prints)."""
        from ..authoring._lint import lint

        return lint(self.document)

    def package_code(self, text: str) -> str | None:
        """The code of the iTV package ``text`` names, by code or name in any case; None if none."""
        if text in self.document.packages:
            return text
        lowered = text.strip().lower()
        for code, package in self.document.packages.items():
            if lowered in (code.lower(), package.name.strip().lower()):
                return code
        return None

    @property
    def parameters(self) -> Mapping[str, Any]:
        return self.document.parameters

    @property
    def packages(self) -> Mapping[str, Package]:
        return self.document.packages

    @property
    def tariffs(self) -> dict[str, Decimal]:
        """Monthly tariff of every iTV package for brand-package users, in CNY."""
        return {code: pkg.tariff["brand"] for code, pkg in self.document.packages.items()}

    @property
    def tax_rate(self) -> Decimal | None:
        """The VAT rate the tariffs include (``parameters.tax_rate``), or None when the policy
        names none: exports that split tax, such as TMF678, need it, the fees do not."""
        rate = self.document.parameters.get("tax_rate")
        return rate if isinstance(rate, Decimal) else None

    @property
    def assumptions(self) -> tuple[str, ...]:
        """Values the notice leaves open that this policy assumes, as the sentences of its entries."""
        return tuple(entry.text for entry in self.document.assumptions)

    @property
    def assumption_entries(self) -> tuple[Assumption, ...]:
        """The ``assumptions:`` entries: what each assumes or leaves as a placeholder, and which
        values of the file (with their lines) it covers."""
        return self.document.assumptions

    def placeholder_tariff(self, package: str, product: str) -> Assumption | None:
        """The entry that marks ``package``'s tariff for ``product`` a placeholder, or None."""
        return self._placeholder_tariffs.get((package, product))

    def rules(self, table: str) -> tuple[Rule, ...]:
        """The rules of ``"eligibility"`` or ``"fees"``, in first-hit order."""
        return self.document.table(table)

    def __repr__(self) -> str:
        return f"<Policy {self.id} {self.version} from {self.source}>"

    # -- engines ----------------------------------------------------------------
    def engine(self, name: str | None = None) -> Engine:
        """The engine called ``name`` (default: the policy's default engine), built once."""
        name = self.default_engine if name is None else _check_engine(name)
        found = self._engines.get(name)
        if found is None:
            found = _durable_engine(self.document) if name == "durable" else CompiledEngine(self.document)
            self._engines[name] = found
        return found

    # -- decisions ----------------------------------------------------------------
    def eligibility(self, subscriber: Subscriber, *, accepted_on: date,
                    engine: str | None = None) -> Eligibility:
        """Is ``subscriber`` a trial target for an order accepted on ``accepted_on``?"""
        run = self.engine(engine)
        if not isinstance(subscriber, Subscriber):
            raise InputError("subscriber", subscriber, "expected an itvrules.Subscriber")
        _check_day("accepted_on", accepted_on)
        facts = eligibility_facts(subscriber, accepted_on, self._catalogue)
        return trusted_eligibility(subscriber.account_id,
                                   *self._eligibility_results[run.decide("eligibility", facts)],
                                   *self._provenance)

    def explain(self, subject: Subscriber | Enrollment, month: str | None = None, *,
                accepted_on: date | None = None, engine: str | None = None) -> Explanation:
        """Why ``subject`` is decided as it is: every rule in order, with its clause and text.

        A ``Subscriber`` needs ``accepted_on`` (eligibility); an
        ``Enrollment`` needs the billing ``month`` (fees).
        """
        run = self.engine(engine)
        if isinstance(subject, Subscriber):
            if accepted_on is None:
                raise InputError("accepted_on", None, "explaining eligibility needs accepted_on")
            decision: Any = self.eligibility(subject, accepted_on=accepted_on, engine=engine)
            _check_day("accepted_on", accepted_on)
            facts = eligibility_facts(subject, accepted_on, self._catalogue)
            table, label = "eligibility", f"{subject.account_id} accepted on {accepted_on}"
        elif isinstance(subject, Enrollment):
            if month is None:
                raise InputError("month", None, "explaining a fee needs the billing month")
            decision = self.fee(subject, month, engine=engine)
            facts = fee_facts_from_key(fee_key(subject), parse_month(month))
            table, label = "fees", f"{subject.account_id} in {month}"
        else:
            raise InputError("subject", subject, "expected a Subscriber or an Enrollment")
        return explain_table(table, self.rules(table), facts, run.decide(table, facts), label,
                             decision)

    def trial_window(self, completed_on: date) -> TrialWindow:
        """The free months of a trial completed on ``completed_on``."""
        _check_day("completed_on", completed_on)
        params = self.document.parameters
        first = month_index(completed_on)
        trial = int(params["trial_months"])
        contract_start = first + int(params["contract_start_offset"])
        contract_months = int(params["contract_months"])
        return TrialWindow(
            start=completed_on,
            end=last_day(first + trial - 1),
            months=tuple(month_text(first + k) for k in range(trial)),
            contract_start=month_text(contract_start),
            contract_end=month_text(contract_start + max(contract_months, 1) - 1),
        )

    def fee(self, enrollment: Enrollment, month: str, *, engine: str | None = None) -> FeeDecision:
        """What billing charges ``enrollment`` for billing month ``"YYYY-MM"``."""
        run = self.engine(engine)
        index = parse_month(month)
        if not isinstance(enrollment, Enrollment):
            raise InputError("enrollment", enrollment, "expected an itvrules.Enrollment")
        key = fee_key(enrollment)
        outcome = self._fee_outcome(run, key, index, enrollment)
        return trusted_fee(enrollment.account_id, month, *outcome)

    def fees(self, enrollments: Iterable[Enrollment] | Any, month: str, *,
             engine: str | None = None,
             on_error: Callable[[Any, InputError], None] | None = None,
             backend: str = "auto", batch_rows: int = FEES_BATCH_ROWS) -> Iterator[FeeDecision]:
        """Decide ``month`` for every enrolment, lazily, in input order.

        ``enrollments`` is any iterable of ``Enrollment``, or columns: a
        Polars DataFrame or LazyFrame, or a pyarrow Table, RecordBatch or
        RecordBatchReader with the columns of ``fees_frame`` (and, if
        present, ``return_reason`` and ``prior_modem``, checked as Enrollment
        checks them). A column missing or of another type raises now.

        ``backend="rows"`` decides one enrolment at a time (for columns, an
        Enrollment built from each row), each distinct case (``_facts.fee_key``)
        once, streaming. ``"columnar"`` decides ``batch_rows`` rows at a time:
        checked in bulk, reduced to distinct cases, decided by ``fees_frame``.
        ``"auto"`` is columnar for columns (about 1.6x the row path) and rows
        for objects: measured at a million, turning objects into columns costs
        what the columnar backend saves, and the row path reads nothing ahead
        (docs/performance.md "fees(): rows or columns"). Every backend gives
        the same decisions, in the same order, and the same errors.

        A bad item (not an Enrollment, an unknown ``switched_to``; in columns
        also a row that is not a valid enrolment: no account, product or
        acceptance date, dates out of order...) raises ``InputError``
        after the decisions before it; a row's error has ``source="frame"``,
        its ``row`` (from 0) and names its account. With ``on_error`` the item
        (for columns, the row as a dict) is handed to ``on_error(item, error)``
        instead and the stream goes on.
        """
        run = self.engine(engine)
        index = parse_month(month)
        _check_backend(backend, batch_rows)
        name = self.default_engine if engine is None else engine
        if _columnar_input(enrollments):
            from ..frames._stream import frame_fees

            return frame_fees(self, name, run, enrollments, month, index, on_error, batch_rows,
                              rows=backend == "rows")
        if backend == "columnar":
            from ..frames._stream import object_fees

            return object_fees(self, name, run, enrollments, month, index, on_error, batch_rows)
        return self._fees(run, enrollments, month, index, on_error)

    def fees_frame(self, frame: Any, month: str) -> Any:
        """Decide ``month`` for a whole Polars frame of enrolments at once (the columnar backend).

        ``frame`` has the columns of ``_frames.ENROLLMENT_COLUMNS`` (dates as
        ``pl.Date``); the result has one row per input row, in order, with the
        same decisions as ``fee`` (fen-exact ``Decimal(12, 2)`` money).
        """
        require("Policy.fees_frame", "polars")
        from ..frames._fees import decide_fees

        return decide_fees(self, frame, month)

    def eligibility_frame(self, frame: Any, accepted_on: date | None = None) -> Any:
        """Decide a whole Polars frame of subscribers at once (the columnar backend).

        ``frame`` (DataFrame or LazyFrame) has the columns of
        ``_eligibility_frames.SUBSCRIBER_COLUMNS`` and must hold valid
        subscribers: the first row ``Subscriber`` would refuse raises
        ``InputError`` naming its field and account. ``accepted_on`` gives
        one acceptance day for every row of a frame without that column. The
        result has one row per input row, in order, with the same decisions as
        ``eligibility``.
        """
        require("Policy.eligibility_frame", "polars")
        from ..frames._eligibility import decide_eligibility

        return decide_eligibility(self, frame, accepted_on)

    def fees_spark(self, frame: Any, month: str, *, rejects: bool = False,
                   billing_cycle: str | None = None, source: str | None = None) -> Any:
        """Decide ``month`` for a Spark DataFrame of enrolments (the cluster backend).

        Lazy: returns a DataFrame with the columns of ``fees_frame``, built from
        plain Spark column expressions (no Python runs on the executors). Needs
        ``pip install 'itvrules[spark]'`` and Java 17+; see docs/scale.md.
        ``rejects=True`` returns a ``SparkBill``: ``.decided``, the bill export's lines
        (``billing_cycle`` and ``source`` fill those columns), and ``.rejected`` (bad
        rows, with why).
        """
        require("Policy.fees_spark", "pyspark")
        if rejects:
            from ..spark._bill import DEFAULT_SOURCE, bill_spark

            return bill_spark(self, frame, month, billing_cycle=billing_cycle,
                              source=DEFAULT_SOURCE if source is None else source)
        if billing_cycle is not None or source is not None:
            raise UsageError("billing_cycle and source are columns of the bill export: "
                             "pass rejects=True for it")
        from ..spark._fees import decide_fees_spark

        return decide_fees_spark(self, frame, month)

    def eligibility_spark(self, frame: Any, accepted_on: date | None = None) -> Any:
        """Decide eligibility for a Spark DataFrame of subscribers (the cluster backend).

        Lazy: one row per subscriber, the decisions of ``eligibility`` as plain
        Spark column expressions (no Python on the executors). ``frame`` has the
        columns of ``_spark_eligibility.SUBSCRIBER_COLUMNS``; ``accepted_on`` is the
        day of rows without one. Needs ``pip install 'itvrules[spark]'``; see docs/scale.md.
        """
        require("Policy.eligibility_spark", "pyspark")
        from ..spark._eligibility import decide_eligibility_spark

        return decide_eligibility_spark(self, frame, accepted_on)

    def run_error(self, enrollment: Enrollment) -> InputError | None:
        """The contract's checks of ``fees(..., on_error=)`` (a feed run: the campaign
        window, a known package) on ``enrollment``; None when it passes them."""
        if self._fees_checks is None:
            self._fees_checks = RunChecks(self, "fees")
        return self._fees_checks.error(account_id=enrollment.account_id,
                                       accepted_on=enrollment.accepted_on,
                                       switched_to=enrollment.switched_to)

    def _fees(self, run: Engine, enrollments: Iterable[Enrollment], month: str, index: int,
              on_error: Callable[[Any, InputError], None] | None) -> Iterator[FeeDecision]:
        seen: dict[tuple[Any, ...], _FeeOutcome] = {}
        lookup = seen.get
        for enrollment in enrollments:
            if not isinstance(enrollment, Enrollment):
                error = InputError("enrollment", enrollment, "expected an itvrules.Enrollment")
                if on_error is None:
                    raise error
                on_error(enrollment, error)
                continue
            if on_error is not None:
                refused = self.run_error(enrollment)
                if refused is not None:
                    on_error(enrollment, refused)
                    continue
            completed = enrollment.completed_on
            requested = enrollment.cancel_requested_on
            effective = enrollment.cancel_effective_on
            key = (  # the same tuple as _facts.fee_key, inline: this loop is the hot path
                enrollment.returned,
                None if completed is None else completed.year * 12 + completed.month - 1,
                None if requested is None else requested.year * 12 + requested.month - 1,
                None if effective is None else effective.year * 12 + effective.month - 1,
                enrollment.switched_to,
                enrollment.product,
            )
            outcome = lookup(key)
            if outcome is None:
                try:
                    outcome = seen[key] = self._fee_outcome(run, key, index, enrollment)
                except InputError as error:
                    if on_error is None:
                        raise
                    on_error(enrollment, error)
                    continue
            yield trusted_fee(enrollment.account_id, month, *outcome)

    def _fee_outcome(self, run: Engine, key: tuple[Any, ...], month: int,
                     enrollment: Enrollment) -> _FeeOutcome:
        return self._case_outcome(run, key, month, enrollment.account_id)

    def _case_outcome(self, run: Engine, key: tuple[Any, ...], month: int,
                      account_id: str) -> _FeeOutcome:
        """The outcome of a fee case (``_facts.fee_key``); ``account_id`` names it in an error."""
        switched_to, product = key[4], key[5]
        if switched_to is not None and switched_to not in self.document.packages:
            raise InputError("switched_to", switched_to,
                             f"unknown iTV package for account {account_id}; "
                             f"known: {', '.join(self.document.packages)}")
        code, charge, waive, follow_up, rule_id, clause = \
            self._fee_results[run.decide("fees", fee_facts_from_key(key, month))]
        provenance = self._provenance
        if charge == "none":
            return code, ZERO, ZERO, ZERO, rule_id, clause, None, follow_up, *provenance
        package = self._default_package if charge == "default_package" else switched_to
        assert package is not None  # the switched rule only fires when switched_to is set
        gross = self.document.packages[package].tariff[product.value]
        waived = gross if waive else ZERO
        return code, gross, waived, gross - waived, rule_id, clause, package, follow_up, *provenance


def load_policy(path: str | Path | None = None, *, engine: str = DEFAULT_ENGINE,
                on: date | None = None) -> Policy:
    """Load and validate a policy; without ``path``, the shipped default policy.

    ``path`` is a policy file or a folder of versions of one policy; ``on``
    picks the version in force that day. Raises ``PolicyError`` listing
    every problem with its line.
    """
    if _check_engine(engine) == "durable":
        _durable_class()  # says now, not at the first decision, that durable cannot run here
    if on is not None:
        _check_day("on", on)
    where = Path(path) if path is not None else rulesets_dir()
    versions = load_versions(where) if where.is_dir() else ()
    policy = Policy(pick(where, on, versions), engine=engine, versions=versions)
    _log.info("policy %s %s from %s, engine %s", policy.id, policy.version, policy.source, engine)
    return policy


def _check_backend(backend: object, batch_rows: object) -> None:
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend {backend!r}; use one of: {', '.join(BACKENDS)}")
    if not isinstance(batch_rows, int) or isinstance(batch_rows, bool) or batch_rows < 1:

        raise UsageError(f"batch_rows must be a whole number of at least 1, got {quoted(batch_rows)}")


def _columnar_input(source: object) -> bool:
    """Polars or Arrow data? Told without importing either for a plain iterable (0.1 s each)."""
    if not any(kind.__module__.startswith(("polars.", "pyarrow.")) for kind in type(source).__mro__):
        return False
    from ..frames._stream import is_columnar

    return is_columnar(source)


def _durable_engine(document: PolicyDocument) -> Engine:
    """The durable-rules engine for ``document``."""
    return _durable_class()(document)


def _durable_class() -> Callable[[PolicyDocument], Engine]:
    """The durable-rules engine class, or one line saying it cannot run here (not on 3.13)."""
    try:
        from ..engines._durable import DurableEngine
    except ImportError:
        version = ".".join(str(part) for part in sys.version_info[:2])
        raise EngineUnavailable(
            f"the durable engine needs durable-rules, which does not run on Python {version}: "
            "use the compiled engine (the default)"
        ) from None
    return DurableEngine


def _check_engine(name: object) -> str:
    if name not in ENGINES:
        raise InputError("engine", name, f"unknown engine; use one of: {', '.join(ENGINES)}")
    return str(name)


def _check_day(field: str, value: object) -> None:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InputError(field, value, "expected a datetime.date")
