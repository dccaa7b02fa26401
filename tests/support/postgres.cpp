#include "support/postgres.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <pqxx/pqxx>

namespace gw::test {

std::optional<std::string> pg_database::server_url() {
    const char* url = std::getenv("GATEWAY_TEST_PG_URL");
    if (!url || !*url) return std::nullopt;
    return std::string(url);
}

pg_database::pg_database(const std::string& server_url) : server_url_(server_url) {
    static std::atomic<int> counter{0};
    name_ = "gw_test_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
    pqxx::connection admin(server_url_);
    pqxx::nontransaction tx(admin);
    tx.exec("CREATE DATABASE " + name_);
    // The server URL ends with its database's name: the same server, ours instead.
    url_ = server_url_.substr(0, server_url_.rfind('/') + 1) + name_;
}

pg_database::~pg_database() {
    try {
        pqxx::connection admin(server_url_);
        pqxx::nontransaction tx(admin);
        tx.exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
    } catch (...) {
        // Left for the server's folder to be removed with it.
    }
}

}  // namespace gw::test
