"""The managers' analytics: rollups kept by the workflow, the queries reports read, charts.

periods.py      days in the site's time zone; a period split into whole months and days
rollups.py      what each ticket adds to the rollups, kept in the workflow's transaction
                (``record_ticket``), and ``rebuild`` from the tickets themselves
percentiles.py  exact medians and 90th percentiles from the duration rollups
scope.py        what a report covers (period, departments, agent) as rollup conditions
queries.py      the figures the analytics screens and the PDF show, for a scope
requests.py     the "Frequent requests" report's topics and their best tickets
charts.py       server-rendered SVG charts with a table of the same figures

Imports run downward: the workflow calls ``rollups``; the admin reads ``queries`` and
``charts``; all of them read models only.
"""
