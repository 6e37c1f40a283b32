"""Code shared by the benchmark child processes (they run as ``python -c``)."""

#: Start of every child script: this process's own memory figures. ``VmHWM``/``VmRSS`` are
#: read from /proc because ``ru_maxrss`` of a child includes the parent's RSS at fork (Linux).
PRELUDE = """
import json, os, resource, sys, time
def _status_mb(field):
    try:
        for line in open("/proc/self/status"):
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""
