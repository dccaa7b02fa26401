#pragma once
// A database of its own for one test on the PostgreSQL that
// tests/postgres/run.sh started (its URL in GATEWAY_TEST_PG_URL); dropped
// when the test ends.
#include <optional>
#include <string>

namespace gw::test {

class pg_database {
  public:
    // nullopt when no PostgreSQL was started for this run.
    static std::optional<std::string> server_url();
    explicit pg_database(const std::string& server_url);
    ~pg_database();
    pg_database(const pg_database&) = delete;
    pg_database& operator=(const pg_database&) = delete;
    const std::string& url() const { return url_; }

  private:
    std::string server_url_, name_, url_;
};

}  // namespace gw::test
