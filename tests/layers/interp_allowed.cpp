// interp_allowed.cpp — layer probe: as a source of the interpreter (cfm_interp), it includes along
// the edges ARCHITECTURE.md allows it (base, the runtime core and model, the front end, the run
// set-up, its own headers). It must compile, so that the refusals of the other probes mean what
// they say.
#include "base/result.h"
#include "frontend/frontend.h"
#include "interp/interp.h"
#include "run/run.h"
#include "runtime/model/methods.h"
#include "runtime/sched/scheduler.h"

// One use of each floor, so that the headers are compiled, not only found.
bool layerProbeInterpAllowed(const cfm::frontend::Compilation *c, const cfm::run::RunOptions *o) {
  return c != nullptr && o != nullptr;
}
