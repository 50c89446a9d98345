"""The plug-in manager: built-in adapters first, then whatever is installed.

Built-ins are registered first, always, in the order of ``DEFAULT_PLUGINS``
(like datasette's ``DEFAULT_PLUGINS``); then third-party plug-ins are loaded
from the entry-point group ``itvrules`` unless
``ITVRULES_DISABLE_PLUGIN_AUTOLOAD`` is set (like pytest's
``PYTEST_DISABLE_PLUGIN_AUTOLOAD``), so a test run is not changed by whatever
happens to be installed. Formats are looked up by ``--format`` name or by the
file's extension; a later-registered plug-in wins over a built-in for a name.

The core never imports the adapters: the built-ins are found through the
entry-point group ``itvrules.builtin`` that this distribution declares, so
the adapters depend on the core and never the other way round.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, TypeVar

import pluggy

from .. import hookspecs
from .._errors import InputError
from .._version import __version__
from ..hookspecs import ExportWriter, FeedReader, PolicyBoundWriter

if TYPE_CHECKING:
    from ..policy._policy import Policy

ENTRY_POINT_GROUP = "itvrules"
AUTOLOAD_ENV = "ITVRULES_DISABLE_PLUGIN_AUTOLOAD"
#: The entry-point group of the built-in adapters: loaded whether or not autoload is on.
BUILTIN_GROUP = "itvrules.builtin"
#: The built-in adapters (entry points of ``BUILTIN_GROUP``), registered in this order.
DEFAULT_PLUGINS = (
    "itvrules_adapters.csv_io",
    "itvrules_adapters.xlsx_io",
    "itvrules_adapters.jsonl_io",
    "itvrules_adapters.tmf678",
    "itvrules_adapters.parquet_io",
)

T = TypeVar("T", FeedReader, ExportWriter)


def plugin_manager(*, autoload: bool | None = None) -> pluggy.PluginManager:
    """A plugin manager with every hook, the built-in adapters and (maybe) installed plug-ins.

    ``autoload=None`` loads entry-point plug-ins unless the environment variable
    ``ITVRULES_DISABLE_PLUGIN_AUTOLOAD`` is set to a non-empty value;
    ``True``/``False`` decide regardless of it.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name, plugin in _builtins():
        pm.register(plugin, name=name)
    if autoload is None:
        autoload = not os.environ.get(AUTOLOAD_ENV)
    if autoload:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    pm.check_pending()
    return pm


def _builtins() -> list[tuple[str, object]]:
    """The built-in adapters, loaded from their entry points in ``DEFAULT_PLUGINS`` order."""
    found = {point.name: point for point in entry_points(group=BUILTIN_GROUP)}
    missing = [name for name in DEFAULT_PLUGINS if name not in found]
    if missing:
        raise RuntimeError(f"the built-in adapters {', '.join(missing)} are not installed "
                           f"(entry-point group {BUILTIN_GROUP!r}); reinstall itvrules")
    return [(name, found[name].load()) for name in DEFAULT_PLUGINS]


def _provided(caller: Any) -> list[tuple[str, Any]]:
    """(plug-in name, item) for everything a list-returning hook gives, in registration order."""
    found: list[tuple[str, Any]] = []
    for impl in caller.get_hookimpls():
        for item in impl.function() or ():
            found.append((impl.plugin_name, item))
    return found


def _by_name(provided: list[tuple[str, T]]) -> dict[str, T]:
    formats: dict[str, T] = {}
    for _plugin, item in provided:
        formats.pop(item.name, None)  # the later registration wins and moves last
        formats[item.name] = item
    return formats


def feed_readers(pm: pluggy.PluginManager) -> dict[str, FeedReader]:
    """Every input format by name; for a name given twice, the later plug-in's reader."""
    return _by_name(_provided(pm.hook.itvrules_feed_readers))


def export_writers(pm: pluggy.PluginManager) -> dict[str, ExportWriter]:
    """Every output format by name; for a name given twice, the later plug-in's writer."""
    return _by_name(_provided(pm.hook.itvrules_export_writers))


def known_formats(formats: Mapping[str, FeedReader | ExportWriter]) -> str:
    """``csv (.csv .tsv), xlsx (.xlsx)``: the formats as an error message lists them."""
    return ", ".join(f"{name} ({' '.join(item.extensions)})" for name, item in formats.items())


def _pick(formats: Mapping[str, T], path: str, fmt: str | None, what: str, option: str) -> T:
    if fmt is not None:
        found = formats.get(fmt.strip().lower())
        if found is None:
            raise InputError("format", fmt, f"unknown {what} format; known: {known_formats(formats)}",
                             source=path)
        return found
    lowered = path.lower()
    best: T | None = None
    best_length = 0
    for item in formats.values():
        for extension in item.extensions:
            if lowered.endswith(extension.lower()) and len(extension) >= best_length:
                best, best_length = item, len(extension)
    if best is None:
        raise InputError("format", os.path.splitext(path)[1] or path,
                         f"no {what} format for this file name; name one with {option}: "
                         f"{known_formats(formats)}", source=path)
    return best


def reader_for(pm: pluggy.PluginManager, path: str, fmt: str | None = None) -> FeedReader:
    """The reader for ``path``: by ``fmt`` name if given, else by its extension."""
    return _pick(feed_readers(pm), path, fmt, "input", "--format")


def writer_for(pm: pluggy.PluginManager, path: str, fmt: str | None = None, *,
               policy: Policy | None = None) -> ExportWriter:
    """The writer for ``path``: by ``fmt`` name if given, else by its extension.

    With ``policy``, a writer that declares ``PolicyBoundWriter`` is bound to it,
    so every path of the run writes what that policy says (a tax split, say).
    """
    writer = _pick(export_writers(pm), path, fmt, "output", "--out-format")
    if policy is not None and isinstance(writer, PolicyBoundWriter):
        return writer.for_policy(policy)
    return writer


def describe_plugins(pm: pluggy.PluginManager) -> list[dict[str, Any]]:
    """What is loaded and from where, in registration order, for ``itvrules plugins``.

    Each entry: ``name``, ``origin`` (``builtin``, ``entry point`` or
    ``registered``), ``module`` (its file, or its module name when it has none),
    ``distribution`` (``"name version"`` or None), ``hooks`` and the ``readers``
    and ``writers`` format names it provides.
    """
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    readers = _provided(pm.hook.itvrules_feed_readers)
    writers = _provided(pm.hook.itvrules_export_writers)
    described = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:  # blocked
            continue
        dist = dists.get(id(plugin))
        if name in DEFAULT_PLUGINS:
            origin, distribution = "builtin", f"itvrules {__version__}"
        elif dist is not None:
            origin = "entry point"
            distribution = f"{dist.metadata['name']} {dist.version}"
        else:
            origin, distribution = "registered", None
        described.append({
            "name": name,
            "origin": origin,
            "module": _module_of(plugin),
            "distribution": distribution,
            "hooks": sorted(caller.name for caller in pm.get_hookcallers(plugin) or ()),
            "readers": [r.name for plugin_name, r in readers if plugin_name == name],
            "writers": [w.name for plugin_name, w in writers if plugin_name == name],
        })
    return described


def _module_of(plugin: object) -> str:
    module = plugin if hasattr(plugin, "__file__") else sys.modules.get(type(plugin).__module__)
    return str(getattr(module, "__file__", None) or type(plugin).__module__)
