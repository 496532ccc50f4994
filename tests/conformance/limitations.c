/*
 * limitations.c — the explicit table of known bugs in a library underneath a
 * backend that uniws cannot absorb. A case listed here is reported as
 * "limitation" (with the version and reason) instead of being run, as long
 * as the backend still reports that library version. Keep it
 * empty unless the lead decides a gap is truly out of reach: everything else
 * must be fixed in the backend or the core.
 */
#include "cases.h"

#include <string.h>

static const conf_limitation limitations[] = {
    /* {"backend", "case_name", "library version", "reason"}, */
    {NULL, NULL, NULL, NULL},
};

const conf_limitation *conf_limitation_find(const char *backend, const char *version,
                                            const char *case_name)
{
    for (const conf_limitation *l = limitations; l->backend; l++) {
        if (strcmp(l->backend, backend) != 0 || strcmp(l->case_name, case_name) != 0)
            continue;
        /* Tied to the version it was seen with: a new version runs the case
         * again, so a fixed bug shows up as a pass (or a fresh failure). */
        if (l->version && (!version || strncmp(version, l->version, strlen(l->version)) != 0))
            continue;
        return l;
    }
    return NULL;
}
