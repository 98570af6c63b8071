"""vrrpscope: find out what is wrong with VRRP / CARP on a network segment."""

__version__ = "0.1.0"
