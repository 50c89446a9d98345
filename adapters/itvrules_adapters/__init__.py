"""The built-in feed readers and export writers of itvrules, registered as plug-ins.

Each module is a plug-in like any third-party one: it implements
``itvrules_feed_readers`` and/or ``itvrules_export_writers`` (see
``itvrules.hookspecs``). ``itvrules.plugin_manager`` registers them explicitly
(``itvrules._plugins.DEFAULT_PLUGINS``) before loading plug-ins from entry
points, so an installed plug-in can replace a built-in format by giving the
same name.

- ``csv_io``: CSV in (UTF-8, UTF-16, GB18030; encoding detected) and out.
- ``xlsx_io``: Excel in (python-calamine; the registration form) and out (xlsxwriter).
- ``jsonl_io``: JSON Lines in and out.
- ``tmf678``: TMF678 CustomerBill JSON out (bill runs only).
- ``parquet_io``: Parquet in and out (pyarrow; record batches in, typed row groups out).
"""
