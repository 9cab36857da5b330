"""The interactive dashboard (a Solara page, served locally by `solara run`): see docs/dashboard.md.

Modules: `app` (the page and its play loop), `panels` (bars, difference, stories, settings),
`figures` (the plots and network view), `side_by_side` (the twin runs the page drives),
`player` (the pace), `buttons` (the live interventions), `stories` (presenter stories),
`layout` (the network view's stable layout), `command` (`recruitsim dashboard`).
Nothing is imported here: `command` must load without the dashboard extra installed.
"""
