"""vrrpscope/columnar/adverts."""
