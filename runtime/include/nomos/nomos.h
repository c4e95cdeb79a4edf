// Nomos: run programs that change their own code, sandboxed and metered.
#pragma once

#include <nomos/bytes.h>
#include <nomos/cache.h>
#include <nomos/encode.h>
#include <nomos/engine.h>
#include <nomos/error.h>
#include <nomos/gas.h>
#include <nomos/instance.h>
#include <nomos/store.h>
#include <nomos/value.h>
#include <nomos/version.h>
#include <nomos/vm.h>
