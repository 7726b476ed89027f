// interp_cloud.cpp — layer probe: as a source of the interpreter (cfm_interp), it includes the
// cloud driver, which the engines reach only through runtime/model/manager.h. The build must
// refuse it: "runtime/cloud/manager.h" is not found.
#include "runtime/cloud/manager.h"
