# tests/limits/: nvmmd's per-uid limits.
check_SCRIPTS += tests/limits/t_limits
EXTRA_DIST += tests/limits/t_limits.sh tests/limits/Kyuafile
