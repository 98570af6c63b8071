"""vrrpscope/proto."""
