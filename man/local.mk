# man/: mdoc pages.
dist_man1_MANS = man/nvmm-demo.1
dist_man3_MANS = man/libnvmm.3
dist_man8_MANS = man/nvmmd.8 man/nvmmctl.8
