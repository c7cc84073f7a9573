# SPDX-License-Identifier: BSD-2-Clause
# Copyright (c) 2026 The nvmmd developers; see LICENSE.
# man/: mdoc pages.
dist_man1_MANS = man/nvmm-demo.1
dist_man3_MANS = man/libnvmm.3
dist_man5_MANS = man/nvmmd.conf.5
dist_man8_MANS = man/nvmmd.8 man/nvmmctl.8
