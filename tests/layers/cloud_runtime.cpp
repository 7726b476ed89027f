// cloud_runtime.cpp — layer probe: as a source of cfm-cloud's library (cfm_cloudsrv), it includes the
// runtime. The local cloud uses base, net and sql only: "runtime/value.h" is not found.
#include "runtime/value.h"
