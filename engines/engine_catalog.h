#pragma once
// The immutable catalog of built-in secret engine types: one explicit list
// (builtin_engines.cc), no static self-registration.

#include <span>
#include <string_view>

#include "engines/secret_engine.h"

namespace coffer::engines {

// Every built-in engine, in a fixed order.
std::span<const EngineRegistration> builtin_engines();

}  // namespace coffer::engines
