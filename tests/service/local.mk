# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# tests/service/: nvmmd as a service: start-up, configuration, reload,
# systemd, descriptors.
check_SCRIPTS += tests/service/t_start tests/service/t_reload \
	tests/service/t_fds tests/service/t_unit
EXTRA_DIST += tests/service/t_start.sh tests/service/t_reload.sh \
	tests/service/t_fds.sh tests/service/t_unit.sh tests/service/Kyuafile \
	tests/service/h_service.subr tests/service/h_sock.py
