// result.h — kept for the includes that still name it here: Result<T> lives in the base floor
// (base/result.h) so that the runtime, the store and OVF use it without the compiler.
#pragma once

#include "base/result.h"
