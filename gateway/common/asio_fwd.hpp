#pragma once
// Boost 1.74's asio/awaitable.hpp uses std::exchange without including
// <utility>: include this before any Asio or Beast header.
#include <utility>
