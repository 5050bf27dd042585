"""recoverd: a Claude Code hook daemon that diagnoses failed Bash calls and recovers safely."""

__version__ = "0.1.0"
