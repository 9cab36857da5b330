"""The interactive dashboard (Mesa SolaraViz, served locally by `solara run`): see docs/dashboard.md.

Modules: `app` (the page), `components` (figures and panels), `side_by_side` (the twin runs the
page drives), `layout` (the network view's stable layout), `command` (`recruitsim dashboard`).
Nothing is imported here: `command` must load without the dashboard extra installed.
"""
