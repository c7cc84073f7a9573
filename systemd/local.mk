# systemd/ and etc/: what an administrator installs besides the programs.
# The units go where `pkg-config systemd' says (see configure.ac).
systemdsystemunit_DATA = systemd/nvmmd.service systemd/nvmmd.socket
sysusers_DATA = systemd/nvmmd.conf
dist_sysconf_DATA = etc/nvmmd.conf
EXTRA_DIST += systemd/nvmmd.service.in systemd/nvmmd.socket \
	systemd/nvmmd.sysusers
CLEANFILES += systemd/nvmmd.service systemd/nvmmd.conf

systemd/nvmmd.service: $(srcdir)/systemd/nvmmd.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) $(@D) && \
	    sed -e 's|[@]sbindir[@]|$(sbindir)|g' $(srcdir)/systemd/nvmmd.service.in >$@.tmp && \
	    mv $@.tmp $@

# sysusers.d files are named after the package.
systemd/nvmmd.conf: $(srcdir)/systemd/nvmmd.sysusers
	$(AM_V_GEN)$(MKDIR_P) $(@D) && cp $(srcdir)/systemd/nvmmd.sysusers $@
