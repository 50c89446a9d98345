"""The built-in feed readers and export writers of itvrules, registered as plug-ins.

Each module is a plug-in like any third-party one: it implements
``itvrules_feed_readers`` and/or ``itvrules_export_writers`` (see
``itvrules.hookspecs``) and imports only the public API (``itvrules``,
``itvrules.hookspecs``, ``itvrules.formats``). ``itvrules.plugin_manager``
registers them first, through the entry-point group ``itvrules.builtin`` (the
core never imports this package), before loading plug-ins from entry points,
so an installed plug-in can replace a built-in format by giving the same
name. A reader or writer that declares a capability of ``itvrules.hookspecs``
(whole batches of text cells, Arrow batches, whole columns, Arrow tables)
gets the bulk path; the bulk CSV, JSON Lines and Parquet I/O is here.

- ``csv_io``: CSV in (UTF-8, UTF-16, GB18030; encoding detected) and out.
- ``xlsx_io``: Excel in (python-calamine; the registration form) and out (xlsxwriter).
- ``jsonl_io``: JSON Lines in and out.
- ``tmf678``: TMF678 v4.0.0 CustomerBill and AppliedCustomerBillingRate JSON out (bill runs only).
- ``parquet_io``: Parquet in and out (pyarrow; record batches in, typed row groups out).
"""
