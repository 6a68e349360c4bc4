#ifndef TRIBUTARY_CJANSSON_SHIM_H
#define TRIBUTARY_CJANSSON_SHIM_H

#include <jansson.h>

/// Function-like macros of jansson are not imported by Swift; these wrap them.
static inline json_type CJansson_typeof(const json_t *json) { return json_typeof(json); }

#endif
