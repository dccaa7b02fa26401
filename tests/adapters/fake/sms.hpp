#pragma once
// A made-up aggregator for tests: what a new one's folder under
// gateway/adapters/ holds (its codec and status map), and nothing else.
// Inbound: form fields from, to, text, id, answered in the body as
// text/plain; reports: id, status (DELIVERED / FAILED); sending: a form POST
// of to, text and sender to its send_url, answered {"id": ...}.
#include <memory>

#include "adapters/sms_adapter.hpp"

namespace gw::test {

std::unique_ptr<adapters::sms_adapter> make_fake_sms();

}  // namespace gw::test
