#include "engine/worker-internal.h"
#include "log.h"
