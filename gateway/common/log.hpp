#pragma once
// Logging goes through spdlog. Never pass a full phone number, a message
// text or a secret to a log call: use mask_phone() from common/phone.hpp.
#include <spdlog/spdlog.h>
