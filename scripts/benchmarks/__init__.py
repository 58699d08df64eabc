"""Benchmarks for shortcode-gateway: MQTT and SMPP round trips, bulk renewals, scale, start-up.

``scripts/bench`` (or ``python scripts/bench.py``, or ``python -m benchmarks`` from
``scripts/``) sets up everything it needs itself: a mosquitto on a free port (with and
without ``set_tcp_nodelay``), temporary SQLite files (bulk-loaded with sqlite3), the gateway
as ``python -m gateway serve`` with a virtual clock, and every baseline, load generator and
counter as a separate Python process, so that nothing shares a GIL with what it measures.
It prints a table of figures and of issue 13's targets (each a ratio measured side by side
in the same run), writes every figure to JSON and, with ``--chart``, a PNG (matplotlib).

Modules, one section or concern each:

* ``common``: constants, configuration, small helpers.
* ``paho_workers``: the MQTT baseline (a bare threaded paho-mqtt echo responder) and the
  threaded paho-mqtt load generator used against both the echo and the gateway.
* ``aio_workers``: the renewal notification counter and the bare aiomqtt publisher.
* ``bare_sqlite``: the bare SQLite writer of the rows a renewal writes.
* ``workers``: the worker registry (``bench.py --worker ROLE``).
* ``processes``: child processes (workers, mosquitto, the gateway), CPU time and RSS.
* ``loading``: bulk loading of subscribers and due renewals.
* ``mqtt``, ``scale``, ``renewals``, ``smpp``: the sections (``smpp`` with its bare SMPP
  echo peer, ``--worker smpp_echo``).
* ``targets``, ``report``, ``chart``: the verdicts, the printed table, the PNG.
* ``progress``: progress bars (rich) on the long phases.
* ``cli``: arguments and the run.
"""
