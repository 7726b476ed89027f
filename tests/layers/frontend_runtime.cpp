// frontend_runtime.cpp — layer probe: as a source of the front end (cfm_frontend), it includes the
// runtime's model floor. The build must refuse it: the front end (what a language server links)
// stands on base alone, so "runtime/model/methods.h" is not found.
#include "runtime/model/methods.h"
