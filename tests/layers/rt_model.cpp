// rt_model.cpp — layer probe: compiled as a source of the runtime core (cfm_rt), it includes the
// model floor above it. The build must refuse it: "runtime/model/model.h" is not found.
#include "runtime/model/model.h"
