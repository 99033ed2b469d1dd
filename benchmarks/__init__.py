"""Benchmarks of bridge against its peers, the native apps and the servers users run instead.

Run them with ``scripts/bench``; make the docs page with ``python -m benchmarks.page``. Not part
of the library or of the test suite. Modules: :mod:`~benchmarks.run` (command line and rounds),
:mod:`~benchmarks.scenarios` (what is measured), :mod:`~benchmarks.measure` (one measurement),
:mod:`~benchmarks.servers` (process control), :mod:`~benchmarks.load` (wrk),
:mod:`~benchmarks.client` (probe, warm-up, SSE timer), :mod:`~benchmarks.baseline` (the code of
another revision), :mod:`~benchmarks.targets` (the targets), :mod:`~benchmarks.summary`
(medians, ratios, the results file), :mod:`~benchmarks.report` (text), :mod:`~benchmarks.panels`
and :mod:`~benchmarks.chart` (charts), :mod:`~benchmarks.page` (the docs page), ``apps/``.
"""
