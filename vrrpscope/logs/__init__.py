"""The daemons' own logs (keepalived, FRR vrrpd, ucarp): read, aligned with the wire."""

from vrrpscope.logs.reader import LogEvent, LogFile, read_log

__all__ = ["LogEvent", "LogFile", "read_log"]
