#include "util/poll.h"
#include "engine/fetch.h"
