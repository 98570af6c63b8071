"""vrrpscope/report/plot/figures."""
