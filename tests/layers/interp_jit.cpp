// interp_jit.cpp — layer probe: as a source of the interpreter (cfm_interp), it includes the JIT
// above it. The build must refuse it: "jit/jit.h" is not found.
#include "jit/jit.h"
