"""Reproducible analysis of Sharma et al., J Rheumatol 2017 (MA-ILD and tacrolimus).

Every computation of the report lives in this package as small, tested functions; the
notebooks in ``notebooks/`` only call them, show the result and save artifacts.
"""

__version__ = "0.1.0"
