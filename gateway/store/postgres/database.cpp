// The pool, named statements and sealed columns of the PostgreSQL store.
#include "store/postgres/database.hpp"

#include <algorithm>
#include <cctype>
#include <functional>

namespace gw::store::postgres {

statement::statement(std::string named) {
    // ":name" becomes $n (the same name, the same n); "::type" stays.
    for (std::size_t i = 0; i < named.size(); ++i) {
        const char ch = named[i];
        const bool starts_name =
            ch == ':' && i + 1 < named.size() &&
            (std::islower(static_cast<unsigned char>(named[i + 1])) || named[i + 1] == '_') &&
            (i == 0 || named[i - 1] != ':');
        if (!starts_name) {
            sql_ += ch;
            continue;
        }
        std::size_t end = i + 1;
        while (end < named.size() &&
               (std::isalnum(static_cast<unsigned char>(named[end])) || named[end] == '_'))
            ++end;
        std::string name = named.substr(i + 1, end - i - 1);
        std::size_t index = 0;
        while (index < names_.size() && names_[index] != name) ++index;
        if (index == names_.size()) names_.push_back(name);
        sql_ += "$" + std::to_string(index + 1);
        i = end - 1;
    }
    id_ = "gw_" + std::to_string(std::hash<std::string>{}(sql_));
}

std::vector<std::optional<std::string>> params::in_order(const statement& st) const {
    std::vector<std::optional<std::string>> out;
    out.reserve(st.names().size());
    for (const auto& name : st.names()) {
        auto it = std::find_if(values_.begin(), values_.end(),
                               [&](const auto& v) { return v.first == name; });
        if (it == values_.end()) throw store_error("no value for :" + name);
        out.push_back(it->second);
    }
    return out;
}

namespace {
// An unreachable server costs a hop a few seconds, not the TCP timeout.
std::string with_connect_timeout(std::string url) {
    if (url.find("connect_timeout") != std::string::npos) return url;
    const bool is_uri = url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
    if (is_uri) return url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=3";
    return url + " connect_timeout=3";
}
}  // namespace

pqxx::result unit::exec(const statement& st, const params& p) {
    // Prepared once per connection, then only executed.
    if (!c_.prepared.count(st.id())) {
        c_.conn->prepare(st.id(), st.sql());
        c_.prepared.insert(st.id());
    }
    return w_.exec_prepared(st.id(), pqxx::prepare::make_dynamic_params(p.in_order(st)));
}

database::database(std::string url, const data_sealer& sealer, storage_health* health,
                   std::size_t pool_size)
    : url_(with_connect_timeout(std::move(url))),
      sealer_(sealer),
      health_(health),
      pool_size_(pool_size) {}

pooled_connection* database::borrow() {
    {
        std::unique_lock lock(mutex_);
        free_.wait(lock, [&] { return !idle_.empty() || all_.size() + opening_ < pool_size_; });
        if (!idle_.empty()) {
            auto* c = idle_.back();
            idle_.pop_back();
            return c;
        }
        ++opening_;  // a slot of the pool, connected outside the lock
    }
    std::unique_ptr<pooled_connection> c;
    try {
        c = std::make_unique<pooled_connection>();
        c->conn = std::make_unique<pqxx::connection>(url_);
        // Writes wait for the disk only when they say so (write(..., durable)).
        pqxx::nontransaction(*c->conn).exec("SET synchronous_commit TO off");
    } catch (...) {
        {
            std::lock_guard lock(mutex_);
            --opening_;
        }
        free_.notify_one();
        throw;
    }
    std::lock_guard lock(mutex_);
    --opening_;
    all_.push_back(std::move(c));
    return all_.back().get();
}

void database::give_back(pooled_connection* c, bool broken) {
    {
        std::lock_guard lock(mutex_);
        if (broken) {
            // Dropped: the next borrower connects afresh.
            all_.erase(std::remove_if(all_.begin(), all_.end(),
                                      [&](const auto& p) { return p.get() == c; }),
                       all_.end());
        } else {
            idle_.push_back(c);
        }
    }
    free_.notify_one();
}

void database::fail(const char* method, const std::string& what) {
    if (health_) health_->failed(method, what);
    throw store_error(what);
}

std::string database::sealed(const std::string& plain) const {
    if (plain.empty()) return "\\x";
    static constexpr char hex[] = "0123456789abcdef";
    const std::string blob = sealer_.seal(plain);
    std::string out = "\\x";
    out.reserve(2 + blob.size() * 2);
    for (unsigned char b : blob) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    return out;
}

std::string database::unseal(const pqxx::field& f) const {
    if (f.is_null()) return {};
    const pqxx::binarystring blob(f);
    if (blob.size() == 0) return {};
    auto opened = sealer_.open(blob.str());
    if (!opened) throw store_error("sealed data cannot be opened: wrong data key or damaged row");
    return std::move(*opened);
}

}  // namespace gw::store::postgres
