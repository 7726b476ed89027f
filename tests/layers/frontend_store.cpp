// frontend_store.cpp — layer probe: as a source of the front end (cfm_frontend), it includes the
// store. The front end never opens a store: "runtime/store/store.h" is not found.
#include "runtime/store/store.h"
