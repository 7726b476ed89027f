// rt_model_relative.cpp — layer probe: as a source of the runtime core (cfm_rt, compiled from
// runtime/), it reaches the model floor by its folder-relative path. The build must refuse it:
// "model/model.h" is not found (the folder a core source is compiled from holds only the core).
#include "model/model.h"
