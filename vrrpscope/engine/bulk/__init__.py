"""vrrpscope/engine/core/bulk."""
