#pragma once
// The SMS aggregators the gateway speaks to, one class each (see the .cpp
// of each for the wire format it follows).
#include <memory>
#include <vector>

#include "adapters/sms_adapter.hpp"

namespace gw::adapters {

// Africa's Talking: form callbacks (from, to, text, id, date, linkId),
// delivery reports (id, status), messaging API with an apiKey header.
std::unique_ptr<sms_adapter> make_africastalking_sms();
// Twilio: form callbacks (From, To, Body, MessageSid) answered with TwiML,
// status callbacks (MessageSid, MessageStatus), Messages.json API.
std::unique_ptr<sms_adapter> make_twilio_sms();
// Infobip: JSON `results` arrays for inbound messages and delivery
// reports; /sms/2/text/advanced API with an "App" key.
std::unique_ptr<sms_adapter> make_infobip_sms();
// Kannel smsbox: sms-service GET (from, to, text, id) answered in the body;
// sendsms GET interface; dlr-url callbacks carrying our own reference.
std::unique_ptr<sms_adapter> make_kannel_sms();

// One of each aggregator that speaks SMS, in the registry's order
// (adapters/registry.cpp).
std::vector<std::unique_ptr<sms_adapter>> all_sms_adapters();

}  // namespace gw::adapters
