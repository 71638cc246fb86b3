"""Figures: tensor networks with their min-cut (:mod:`.network`), rank curves (:mod:`.curves`).

Everything renders offline and headless with matplotlib's Agg backend; no graphviz binary is needed.
"""
