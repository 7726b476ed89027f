// model_store.cpp — layer probe: as a source of the model floor (cfm_model), it includes the store
// above it. The build must refuse it: "runtime/store/store.h" is not found.
#include "runtime/store/store.h"
