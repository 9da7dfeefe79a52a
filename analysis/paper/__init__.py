"""What the study is, declared once: Sharma et al., J Rheumatol 2017 (doi:10.3899/jrheum.161217).

Every other module asks this package what the paper says, instead of typing it again:

- :mod:`analysis.paper.claims` — the paper's conclusions as data (the quantity, the direction the
  paper states, the test it used, the kind of claim, where it is printed) and the one judgement
  of whether a run supports each.
- :mod:`analysis.paper.rows` — the rows of Tables 1-3, their kinds, levels, headings and roles
  (which table, which test family), and where each table's group sizes are printed.
- :mod:`analysis.paper.grids` — the dose grids (tablet strengths and ranges per drug) the
  consistency checks and the synthetic cohort share.

The printed values themselves are never typed here: they are read from
``data/published/numbers.csv`` (:mod:`analysis.published`).
"""
