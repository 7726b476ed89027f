// engine_store.cpp — layer probe: as a source of the interpreter (cfm_interp), it includes the
// store. The build must refuse it: an engine never opens the store (the program that runs it
// does, and hands it a loader of model objects), so "runtime/store/store.h" is not found.
#include "runtime/store/store.h"
