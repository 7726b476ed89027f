// ovf_compiler.cpp — layer probe: as a source of the OVF library (cfm_ovf), it includes the front
// end. OVF uses base and the model floor only: "support/diagnostics.h" is not found.
#include "support/diagnostics.h"
