/* The module's umbrella header: the declarations grucc generates from adder.gru (adder_run,
 * ADDER_OK, ...), found in the plugin's include folder at build time. */
#include <stddef.h>
#include "adder.h"

/* Swift imports constants but not function-like macros such as ADDER_SCRATCH_SIZE(B, T). */
static inline size_t adder_scratch_values(int B, int T) { return ADDER_SCRATCH_SIZE(B, T); }
