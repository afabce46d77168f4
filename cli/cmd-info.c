// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * mmreplay info: what a new user runs first. Which of the recorder's
 * events this kernel has, whether we may trace, and what the VM runner
 * can use.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "mmr-config.h"
#include "mmr-probe.h"
#include "mmr-sysinfo.h"
#include "mmreplay.h"

static const char *yesno(bool b)
{
	return b ? "yes" : "no";
}

int cmd_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const struct mmr_cmd *cmd = mmr_find_cmd("info");
	struct json_object *jo = NULL, *jev = NULL;
	struct mmr_sysinfo si;
	struct mmr_probe p;
	int c, json = 0, missing = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'j')
			json = 1;
		else
			die_usage(cmd, "unknown option");
	}
	if (optind < argc)
		die_usage(cmd, "unexpected argument '%s'", argv[optind]);
	if (mmr_sysinfo_get(&si) < 0)
		return lib_error("info");
	mmr_probe_machine(&p);

	if (json) {
		jo = json_object_new_object();
		jev = json_object_new_object();
		json_object_object_add(jo, "mmreplay_version", json_object_new_string(MMR_VERSION));
		json_object_object_add(jo, "kernel", json_object_new_string(si.kernel));
		json_object_object_add(jo, "arch", json_object_new_string(si.arch));
		json_object_object_add(jo, "cpus", json_object_new_int(si.cpus));
		json_object_object_add(jo, "mem_total", json_object_new_int64(si.mem_total));
		json_object_object_add(jo, "tracefs", p.tracefs ? json_object_new_string(p.tracefs) : NULL);
		json_object_object_add(jo, "root", json_object_new_boolean(p.root));
		json_object_object_add(jo, "kallsyms", json_object_new_boolean(p.kallsyms));
		json_object_object_add(jo, "kvm_device", json_object_new_boolean(p.kvm_dev));
		json_object_object_add(jo, "kvm_create_vm", json_object_new_boolean(p.kvm_usable));
		json_object_object_add(jo, "qemu", p.qemu[0] ? json_object_new_string(p.qemu) : NULL);
		json_object_object_add(jo, "perf", json_object_new_boolean(p.perf));
		json_object_object_add(jo, "cgroup", json_object_new_string(p.cgroup));
		json_object_object_add(jo, "zram", json_object_new_boolean(p.zram));
	} else {
		printf("mmreplay %s on %s, kernel %s (%s), %u CPUs, %.1f GiB\n", MMR_VERSION,
		       si.host, si.kernel, si.arch, si.cpus, si.mem_total / 1073741824.0);
		printf("\n%-28s %s\n", "tracefs", p.tracefs ? p.tracefs :
		       "not available: mount -t tracefs nodev /sys/kernel/tracing (as root)");
		printf("%-28s %s\n", "root (can trace)", p.root ? "yes" : "no: record/replay need root");
		printf("%-28s %s\n", "kallsyms (stack symbols)", p.kallsyms ? "yes" :
		       "no: kernel stacks stay unsymbolised (run as root / kptr_restrict=0)");
		printf("%-28s %s\n", "memory cgroup", p.cgroup);
		printf("%-28s %s\n", "zram (reclaim replay)", yesno(p.zram));
		printf("%-28s %s\n", "perf (cross-check)", yesno(p.perf));
		printf("%-28s %s%s\n", "/dev/kvm", yesno(p.kvm_dev),
		       p.kvm_dev && !p.kvm_usable ? " (KVM_CREATE_VM fails: VMs use TCG emulation)" : "");
		printf("%-28s %s\n", "qemu", p.qemu[0] ? p.qemu :
		       "not found: apt-get install qemu-system-x86 for --kernel");
		printf("\nEvents (%s):\n", p.tracefs ? "present on this kernel" : "cannot check without tracefs");
	}
	for (const struct mmr_wanted_event *e = mmr_wanted_events; e->system; e++) {
		char name[128];
		bool have = p.tracefs && mmr_event_exists(e->system, e->name);

		snprintf(name, sizeof(name), "%s:%s", e->system, e->name);
		missing += !have;
		if (json) {
			json_object_object_add(jev, name, json_object_new_boolean(have));
			continue;
		}
		if (have)
			printf("  %-44s %-8s yes\n", name, mmr_evgroup_name(e->group));
		else
			printf("  %-44s %-8s MISSING: no %s\n", name, mmr_evgroup_name(e->group), e->lost);
	}
	if (json) {
		json_object_object_add(jo, "events", jev);
		printf("%s\n", json_object_to_json_string_ext(jo, JSON_C_TO_STRING_PRETTY |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(jo);
	} else if (!p.tracefs || !p.root) {
		printf("\nRecording is not possible here: %s.\n",
		       !p.root ? "run as root" : "mount tracefs");
	} else {
		printf("\n%s\n", missing ? "Recording works; the missing events' data will be absent from traces."
					 : "Everything the recorder needs is here.");
	}
	return !p.tracefs || !p.root ? EXIT_NOTSUP : EXIT_OK;
}
