"""vrrpscope/engine/core."""
