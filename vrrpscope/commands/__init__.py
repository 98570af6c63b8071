"""The subcommands' bodies; vrrpscope.cli only parses arguments."""
