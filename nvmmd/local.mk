# nvmmd/: the daemon.
sbin_PROGRAMS += nvmmd/nvmmd
nvmmd_nvmmd_SOURCES = \
	nvmmd/nvmmd.h \
	nvmmd/main.c \
	nvmmd/log.c \
	nvmmd/listener.c \
	nvmmd/session.c \
	nvmmd/ops.c \
	nvmmd/vcpu.c \
	nvmmd/watcher.c \
	nvmmd/limits.c \
	nvmmd/sandbox.c
nvmmd_nvmmd_CFLAGS = $(AM_CFLAGS) $(NVMM_PROTO_CFLAGS) $(LIBEVENT_CFLAGS) \
	$(LIBBSD_CFLAGS) $(LIBSECCOMP_CFLAGS) -I$(top_srcdir)/kernel
nvmmd_nvmmd_LDADD = kernel/libnvmmkern.la proto/libnvmmproto.la \
	$(LIBEVENT_LIBS) $(LIBBSD_LIBS) $(LIBSECCOMP_LIBS) -lpthread
