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

# The user nvmmd drops to, and the groups, made at install time where
# systemd-sysusers exists; a staged install (DESTDIR) leaves that to the
# package's own scripts.
install-data-hook: install-sysusers
install-sysusers:
	@if test -z "$(DESTDIR)" && command -v systemd-sysusers >/dev/null; then \
	    echo " systemd-sysusers $(sysusersdir)/nvmmd.conf"; \
	    systemd-sysusers "$(sysusersdir)/nvmmd.conf"; \
	fi
.PHONY: install-sysusers
