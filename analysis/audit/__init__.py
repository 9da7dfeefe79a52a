"""Methods audit: which test produced each categorical p-value printed in the paper.

Sharma 2017, Statistical analysis, says only: "Categorical variables were ... compared using
the Pearson chi-square test and Fisher's exact test when n was small (< 5). All analyses were
performed using Stata MP v.13." It does not say which "n" (observed or expected cell count)
nor which Fisher p-value (Stata prints a two-sided and, for 2 x 2 tables, a "1-sided"
one). This module recomputes every categorical row of Tables 2 and 3 from the printed counts
under each candidate test, records which tests reproduce the printed p at its printed
decimals, and scores candidate selection rules by how many printed p-values they reproduce.

Candidate tests per row (ids of :data:`analysis.stats.TEST_LABELS`): Pearson chi-square
(``chi2``), Yates-corrected chi-square (``chi2_yates``, 2 x 2 only), two-sided Fisher
(``fisher_two_sided`` for 2 x 2, exact Fisher-Freeman-Halton ``fisher_rxc`` for larger),
one-sided Fisher as Stata prints it (``fisher_one_sided``, 2 x 2 only). A printed p "matches"
a computed p when the computed p, rounded half away from zero at the printed decimals, equals
it (:func:`analysis.printed.matches`).

Findings on the paper's printed counts
---------------------------------------
Serology and DMARD rows are positive vs negative against the group sizes (31/23, 13/5).
Empty levels ("Asian 0 0", "CADM 0 0" in Table 3) are dropped before testing. Columns:
Pearson chi-square ("chi2"), Yates-corrected chi-square, two-sided Fisher ("F2"; for tables
larger than 2 x 2 the exact Fisher-Freeman-Halton test, "rxc"), one-sided Fisher as Stata
prints it ("F1"), the tests that reproduce the printed p, and the test and p chosen by the
best rule below ("miss": not reproduced).

=====  =========  =======  ======  ======  ======  ======  =============  =================
table  variable   printed  chi2    Yates   F2      F1      reproduced by  rule's choice
=====  =========  =======  ======  ======  ======  ======  =============  =================
t2     sex        0.055    0.0549  0.1056  0.0739  0.0531  chi2           chi2 0.0549
t2     race       0.12     0.1205  --      0.1347  --      chi2           rxc 0.1347 (miss)
t2     smoking    0.068    0.0682  --      0.0828  --      chi2           rxc 0.0828 (miss)
t2     myositis   0.013    0.0172  --      0.0135  --      rxc            rxc 0.0135
t2     ana        0.18     0.1843  0.2948  0.2639  0.1474  chi2           chi2 0.1843
t2     jo1        0.17     0.1688  0.2710  0.2709  0.1355  chi2           chi2 0.1688
t2     ssa        0.84     0.8357  1.0000  1.0000  0.5299  chi2           chi2 0.8357
t2     mi2        0.39     0.3856  0.7895  0.5688  0.3876  chi2, F1       F1 0.3876
t2     pl7        0.43     0.2413  0.8798  0.4259  0.4259  F2, F1         F1 0.4259
t2     srp        0.68     0.8291  1.0000  1.0000  0.6751  F1             F1 0.6751
t2     ku         0.43     0.2413  0.8798  0.4259  0.4259  F2, F1         F1 0.4259
t2     honeycomb  0.62     0.6234  0.8495  0.7657  0.4274  chi2           chi2 0.6234
t2     histology  0.60     0.3969  --      0.6628  --      none           rxc 0.6628 (miss)
t2     aza        0.53     0.5289  0.7327  0.5766  0.3681  chi2           chi2 0.5289
t2     mtx        0.30     0.2972  0.4556  0.3785  0.2273  chi2           chi2 0.2972
t2     mmf        0.55     0.8297  1.0000  1.0000  0.5460  F1             F1 0.5460
t3     sex        0.62     0.8139  1.0000  1.0000  0.6176  F1             F1 0.6176
t3     race       0.49     0.2778  --      0.4902  --      rxc            rxc 0.4902
t3     smoking    1.00     0.5310  --      1.0000  --      rxc            rxc 1.0000
t3     myositis   0.50     0.5987  1.0000  1.0000  0.5000  F1             F1 0.5000
t3     ana        0.18     0.1366  0.3522  0.2682  0.1758  F1             F1 0.1758
t3     jo1        0.09     0.0628  0.1928  0.1141  0.0924  F1             F1 0.0924
t3     ssa        0.68     0.9522  1.0000  1.0000  0.6765  F1             F1 0.6765
t3     mi2        0.51     0.3522  0.9259  1.0000  0.5098  F1             F1 0.5098
t3     pl7        0.28     0.0971  0.6097  0.2778  0.2778  F2, F1         F1 0.2778
t3     srp        0.72     0.5234  1.0000  1.0000  0.7222  F1             F1 0.7222
t3     ku         0.72     0.5234  1.0000  1.0000  0.7222  F1             F1 0.7222
t3     honeycomb  0.23     0.1596  0.4392  0.2778  0.2337  F1             F1 0.2337
t3     histology  N/A      --      --      --      --      not testable   not testable
t3     aza        0.15     0.1027  0.2963  0.2489  0.1502  F1             F1 0.1502
t3     mtx        0.088    0.0597  0.1760  0.1176  0.0882  F1             F1 0.0882
t3     mmf        0.70     0.8882  1.0000  1.0000  0.7010  F1             F1 0.7010
=====  =========  =======  ======  ======  ======  ======  =============  =================

Best default rule: Fisher's exact test when any *expected* count is < 5 (the documented
"n < 5", read as expected counts), reporting Stata's one-sided Fisher p for 2 x 2 tables and
the exact two-sided Fisher-Freeman-Halton p for larger tables, Pearson chi-square without
Yates correction otherwise (``rule="expected", threshold=5, fisher_sided="one-sided",
correction=False``). It reproduces **28 of 31** printed numeric p-values (plus the "N/A" of
Table 3 histology, untestable under every rule); no other of the 48 candidates ties it (next:
27 of 31). The documented rule with two-sided Fisher reproduces 13 of 31; chi-square
everywhere 10 of 31; Yates correction never helps. A tableone-style rule (Fisher only for
small 2 x 2 tables, chi-square for every larger table; not a candidate here) reaches 27 of 31.

The three misses, and other contradictions:

* Table 2 race (0.12) and smoking (0.068) match only Pearson chi-square, although both tables
  have expected counts below 5 (min 0.85 and 1.70), like Table 2 myositis (min 1.70), whose
  0.013 matches only the exact test (chi-square gives 0.017). Smoking and myositis have the
  same smallest expected count (1.70, from a level of 4 patients), so no rule based on the
  counts alone reproduces all three: the test was evidently chosen row by row for the r x c
  rows.
* Table 2 lung histopathology (0.60) is reproduced by no test: chi-square 0.40, exact 0.66.
  No table with the printed margins (levels of 5/3/3/3 patients, 5 vs 9 per group) gives
  0.60 under either test, nor does adding the 40 patients without a biopsy as a level.
* The text's "PM vs DM ... 67% vs 35%, p = 0.013" (also in the Abstract) is not a PM-vs-DM
  test: the 2 x 2 table PM/DM (20/10 vs 7/13) gives chi-square 0.028, Yates 0.056, Fisher
  0.043 (two-sided) and 0.028 (one-sided); 0.013 is the exact test of the 3-level myositis
  row including CADM (4 vs 0), i.e. Table 2's p (:func:`pm_vs_dm_readings`).
* Every 2 x 2 row of Table 3 prints the one-sided Fisher p: anti-Jo1 "p = 0.09" ("trended
  toward statistical significance") is the one-sided p 0.092; its two-sided p is 0.114. So are
  MTX 0.088 (two-sided 0.118), AZA 0.15 (0.249), ANA 0.18 (0.268), honeycombing 0.23 (0.278),
  and every printed 0.50-0.72 is a one-sided p whose two-sided value is 1.00.
* Race, Table 1 vs Table 2: Table 1 prints Hispanic 4 and Asian 2, Table 2 prints Asian 4/0
  and Hispanic 0/2. Swapping the two labels in Table 2 makes its totals agree with Table 1;
  p = 0.12 (Pearson chi-square 0.1205) is reproduced under both readings, because a test of
  independence does not depend on the order or names of the rows: the printed p cannot
  decide between them, only the totals can, and they favour the swap
  (:func:`race_readings`).

Modules: :mod:`~analysis.audit.counts` (the printed counts and p-values of Tables 2 and 3,
as count matrices), :mod:`~analysis.audit.evidence` (every candidate test's p for every
row), :mod:`~analysis.audit.rules` (selection rules, their scores, the evidence table of the
report), :mod:`~analysis.audit.readings` (the PM-vs-DM and race readings). Whether a p
reproduces a printed one is decided by :func:`analysis.printed.matches`.

No I/O here: the printed numbers come in as arguments (from ``data/published/numbers.csv``,
keys ``t2.<var>.<level>.resp``, ``t2.<var>.<level>.nonresp``, ``t2.<var>.p``, see
:func:`counts_from_published`), except that :func:`categorical_evidence` called without group
sizes reads the ones the paper's column headers print from that file.
"""

from analysis.audit.counts import counts_from_published, printed_counts
from analysis.audit.evidence import categorical_evidence
from analysis.audit.readings import pm_vs_dm_readings, race_readings
from analysis.audit.rules import best_rule, candidate_rules, evidence_table, rule_scores

__all__ = [
    "best_rule",
    "candidate_rules",
    "categorical_evidence",
    "counts_from_published",
    "evidence_table",
    "pm_vs_dm_readings",
    "printed_counts",
    "race_readings",
    "rule_scores",
]
