// rt_compiler.cpp — layer probe: as a source of the runtime core (cfm_rt), it includes the
// interpreter. The runtime never includes the compiler: "interp/interp.h" is not found.
#include "interp/interp.h"
