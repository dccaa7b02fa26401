#pragma once
// One USSD hop as every aggregator's adapter and the USSD service see it:
// what she sent (ussd_request) and the screen she gets (ussd_reply).
#include <string>

namespace gw::domain {

struct ussd_request {
    std::string aggregator;  // adapter name: keeps session ids of aggregators apart
    std::string session_id;
    std::string phone;  // as received
    std::string service_code;
    std::string network_code;
    std::string text;  // all inputs so far joined by '*' (stepwise: this hop's input)
    // SMPP gateways send each answer alone, not the inputs so far: `text`
    // is then this hop's input only (the first hop still carries what was
    // dialled after the code). Such sessions are written through at every
    // hop, since no later hop could tell what a restored state missed.
    bool stepwise = false;
    // The caller makes the state durable (flush_sessions()) before it
    // answers her, for a whole batch of hops at once: nothing is written
    // here, whatever the hop. A failed flush is answered with
    // store_failure_reply() for each hop of the batch.
    bool caller_flushes = false;
};

struct ussd_reply {
    std::string text;
    bool end = false;
};

}  // namespace gw::domain
