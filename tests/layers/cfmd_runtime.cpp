// cfmd_runtime.cpp — layer probe: as a source of cfmd's library (cfm_cfmd: the run table and the
// control API, which cfmc links too), it includes the runtime. That library is on base and net
// only (the engines are the `cfmd` program's, cfmd/daemon/): "runtime/value.h" is not found.
#include "runtime/value.h"
