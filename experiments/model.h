/*
 * The experiment model: what an XML or JSON description says, after
 * parsing and checking.  Both parsers fill exactly this structure, and the
 * manifest is encoded from it alone, so the two formats cannot drift apart.
 */
#ifndef NESTLAB_MODEL_H
#define NESTLAB_MODEL_H

#include <stdint.h>
#include <stdio.h>
#include "nestlab/manifest.h"

#define NL_BACKEND_NAME_MAX 16
#define NL_CPU_MODEL_MAX    32
#define NL_SOURCE_PATH_MAX  4096

/*
 * How a VM is expected to end.  The run is "ok" when every VM ended as its
 * description expects (results.c); a VMM whose VMs do not all expect to
 * exit is itself expected to exit with NL_EXIT_FAILED, as vmm_main.c does.
 */
enum nl_expect {
	NL_EXPECT_EXIT,     /* the guest called EXIT with status 0 (the default) */
	NL_EXPECT_FAULT,    /* its VMM stopped it for an illegal act (EPT violation, ...) */
	NL_EXPECT_TIMEOUT,  /* still running when the duration ran out */
};

/*
 * The scheduler a VMM runs for its own VMs: L0's on the experiment, a
 * child VMM's on its VM.  Unless the description gives one, round robin
 * with the experiment's quantum-us.
 */
struct nl_sched_desc {
	uint32_t policy;          /* enum nl_sched_policy */
	uint32_t given;           /* the description has a scheduler here (a leaf may not) */
	uint64_t quantum_us;      /* NL_QUANTUM_US_MIN..NL_QUANTUM_US_MAX once checked */
};

struct nl_vm_desc {
	char name[NL_NAME_MAX];
	char image[NL_NAME_MAX];  /* image name: build/images/<image>.elf, module "<image>" */
	enum nl_vm_kind kind;
	uint64_t memory_bytes;
	uint32_t features;        /* NL_FEAT_* */
	uint64_t single_steps;    /* instructions its VMM single-steps from its start (0 = none) */
	struct nl_workload workload;
	uint32_t offer_vmx;       /* vmx="on": runs a VMM of its own without child VMs (1) */
	uint32_t expect;          /* enum nl_expect */
	struct nl_sched_desc sched; /* a VMM's scheduler for its own VMs */
	int parent;               /* index into vms[], -1 for a VM of L0 */
	int line;                 /* source line of the VM's element/object, for messages */
};

/*
 * A source of a VMM's interrupt line: <irq> in <experiment> (L0's lines) or
 * in a <vm> with child VMs (that VMM's lines); "irqs" in JSON.
 */
struct nl_irq_desc {
	int owner;            /* -1: L0's line; else the index in vms[] of the VM whose VMM owns it */
	uint32_t line;        /* < NL_IRQ_LINES */
	uint32_t source;      /* enum nl_irq_source */
	uint32_t rate_hz;     /* rtc, pit */
	uint32_t period_us;   /* periodic, poisson (mean gap), burst (burst to burst) */
	uint32_t burst;       /* burst: assertions per burst */
	uint32_t spacing_us;  /* burst: between its assertions */
	uint32_t given;       /* which of the fields without a default the description gave (desc_fields.c) */
};

/* A route of a VMM's line, from at_ms on: <route>, "routes"; owned as an nl_irq_desc is. */
struct nl_route_desc {
	int owner;
	uint32_t line;
	char to[NL_NAME_MAX]; /* "vmm", or the name of one of the owner's own VMs */
	int to_vm;            /* the checks resolve it: NL_IRQ_TO_VMM, or the VM's index in vms[] */
	uint32_t as;          /* the VM's line it arrives on; the checks set it to line when not given */
	uint32_t given;       /* as in nl_irq_desc */
	uint64_t at_ms;
};
#define NL_ROUTE_AS_UNSET UINT32_MAX

struct nl_backend_desc {
	char name[NL_BACKEND_NAME_MAX];   /* "bochs" or "qemu" */
	char cpu_model[NL_CPU_MODEL_MAX]; /* Bochs CPU model, e.g. corei7_skylake_x */
	uint64_t ips;                     /* Bochs emulated instructions per second */
	uint32_t memory_mb;               /* machine memory */
	uint32_t timeout_s;               /* wall-clock limit for the whole run */
};

struct nl_experiment {
	char name[NL_NAME_MAX];
	char source_path[NL_SOURCE_PATH_MAX];
	uint64_t seed;
	uint64_t duration_ms;     /* emulated time budget */
	uint64_t quantum_us;      /* round-robin slice: every level's default */
	struct nl_sched_desc sched; /* L0's scheduler */
	uint32_t flags;           /* NL_MF_* */
	struct nl_backend_desc backend;
	struct nl_vm_desc vms[NL_MAX_VMS]; /* pre-order: a parent precedes its children */
	unsigned vm_count;
	/* Interrupt lines, in file order; sources and routes together at most NL_IRQ_MAX (a manifest's room). */
	struct nl_irq_desc irqs[NL_IRQ_MAX];
	unsigned irq_count;
	struct nl_route_desc routes[NL_IRQ_MAX];
	unsigned route_count;
};

/* Where a description went wrong: printed as "file:line: field: message". */
struct nl_diag {
	char file[NL_SOURCE_PATH_MAX];
	int line;          /* 0 when unknown */
	char field[128];   /* e.g. "experiment/vm[vm0]/@memory-mb" or "vms[0].memory_mb" */
	char message[512];
};

void nl_diag_print(FILE *out, const struct nl_diag *d);

/*
 * Control characters (newlines, escape sequences) in s become '?': every
 * message the host prints or files is built with nl_msgf() or
 * nl_diag_set(), which apply it, so no echoed value can forge a
 * "FILE:LINE:" line or drive the terminal.
 */
void nl_defang(char *s);

/*
 * Load path (".xml" → libxml2 + schema configs/nestlab.xsd; ".json" →
 * jansson), then run the semantic checks shared by both formats.
 * Returns 0 or -1 with *diag filled in.
 */
int nl_desc_load(const char *path, struct nl_experiment *exp, struct nl_diag *diag);

/* The images a run can boot: the <name>.elf files of a folder (images.c lists them). */
#define NL_IMAGES_MAX 64
struct nl_image_set {
	const char *dir;
	unsigned count;
	char names[NL_IMAGES_MAX][NL_NAME_MAX];
	unsigned more; /* <name>.elf files past NL_IMAGES_MAX, not listed (an image is then looked up by its file) */
};

/* nl_desc_load, and every VM's image must be one of *images (NULL: not checked). */
int nl_desc_load_for(const char *path, const struct nl_image_set *images, struct nl_experiment *exp,
		     struct nl_diag *diag);

/* Whether s can be a name ([A-Za-z0-9_-]{1,31}): the one rule for VM, image and experiment names. */
int nl_desc_name_ok(const char *s);

/* Override the backend chosen by the description ("bochs"/"qemu"), re-checking it. */
int nl_experiment_set_backend(struct nl_experiment *exp, const char *backend, struct nl_diag *diag);

/* TSC ticks per emulated millisecond that the chosen backend gives L0. */
uint64_t nl_experiment_tsc_khz(const struct nl_experiment *exp);

/* Encode the manifest. Returns its size, 0 if it does not fit in cap. */
size_t nl_experiment_to_manifest(const struct nl_experiment *exp, void *buf, size_t cap);

/* Path of the VM at index i ("L0/hv1/vm0") into buf. */
void nl_experiment_vm_path(const struct nl_experiment *exp, unsigned i, char *buf, size_t cap);

#endif
