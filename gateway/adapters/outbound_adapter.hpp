#pragma once
// The outbound port (domain/outbound.hpp) as the adapters implement it,
// and the status handling they share.
#include <string>
#include <utility>
#include <vector>

#include "domain/outbound.hpp"

namespace gw::adapters {

using domain::channel_settings;
using domain::outbound_adapter;
using domain::outbound_request;
using domain::send_outcome;

// Standard status handling: 2xx ok, 408, 429 and 5xx retry, other 4xx reject.
send_outcome outcome_from_status(int status, const std::string& what);

}  // namespace gw::adapters
