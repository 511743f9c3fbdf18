/*
 * A forwarding shim: a shared library that stands in for one CUDA 12 maths library (e.g. libcublas.so.12, which
 * JCuda 12.6's JNI libraries are linked against) and forwards every call to the CUDA 13 library of the GPU machine
 * (libcublas.so.13), where the same functions live under the same names. See README "CUDA backend" and
 * ../../shared/GPU.md for why: JCublas/JCusolver 12.6 are the newest releases and the GPU machines have CUDA 13.
 *
 * This file is generic; make-shim.sh generates, per library, the table of names (from the committed *.symbols
 * list), one 6-byte trampoline per name ("jmp *shim_targets[i]", so arguments and return values pass untouched
 * whatever the signature), and the version script that gives every name the CUDA 12 symbol version the JNI
 * library asks for. The constructor resolves every name once at load time, with dlsym on the target opened from
 * $<SHIM_ENV> (a full path) or by its soname; a name the target lacks (or every name, if the target does not load)
 * jumps to a stub returning the library's NOT_SUPPORTED status, so a missing function is an error code, never an
 * abort or an unresolved symbol. Set NETSLIM_SHIM_DEBUG=1 to print what was resolved.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include SHIM_TABLE /* defines SHIM_COUNT and shim_names[] */

__attribute__((visibility("hidden"))) void *shim_targets[SHIM_COUNT];

static int shim_missing_count = SHIM_COUNT;
static const char *shim_loaded_from = "";

static int shim_not_supported(void) {
    return SHIM_NOT_SUPPORTED;
}

/* Diagnostics, exported next to the forwarded names: how many names have no target, and which file was opened. */
int netslim_shim_missing(void) {
    return shim_missing_count;
}

const char *netslim_shim_target(void) {
    return shim_loaded_from;
}

__attribute__((constructor)) static void shim_init(void) {
    const char *override = getenv(SHIM_ENV);
    const char *path = override != NULL && *override != '\0' ? override : SHIM_TARGET;
    int debug = getenv("NETSLIM_SHIM_DEBUG") != NULL;
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (lib != NULL && dlsym(lib, "netslim_shim_missing") != NULL) {
        /* The target is a shim itself (a wrong override): forwarding to it would loop forever. */
        lib = NULL;
    }
    if (lib == NULL && debug) fprintf(stderr, "netslim shim " SHIM_SONAME ": cannot load %s: %s\n", path, dlerror());
    int missing = 0;
    for (int i = 0; i < SHIM_COUNT; i++) {
        void *f = lib != NULL ? dlsym(lib, shim_names[i]) : NULL;
        if (f == NULL) {
            missing++;
            if (debug && lib != NULL) fprintf(stderr, "netslim shim " SHIM_SONAME ": %s missing in %s\n", shim_names[i], path);
        }
        shim_targets[i] = f != NULL ? f : (void *)shim_not_supported;
    }
    shim_missing_count = missing;
    if (lib != NULL) shim_loaded_from = path;
    if (debug) fprintf(stderr, "netslim shim " SHIM_SONAME " -> %s: %d of %d names forwarded\n", path,
                       SHIM_COUNT - missing, SHIM_COUNT);
}
