#pragma once
// One route table per API: method + path pattern -> one short function.
// A pattern is segments separated by '/'; "{name}" matches any one
// segment and hands it to the function; "{name...}", last, matches the
// rest of the path (none or more segments, joined by '/'): where another
// table takes over. The method "*" takes any method (that table tells 405
// itself). A path no pattern matches is 404, and so is one with an empty
// segment ("cases//R-1", "/cases": no route names one; a trailing '/' is
// the same path); a path some pattern matches but not with this method is
// 405 with Allow.
// The same table serves requests and tells tests (and the OpenAPI check)
// which routes exist.
#include <map>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace gw::app {

using path_params = std::map<std::string, std::string>;

template <class Handler>
struct route {
    std::string method;
    std::string pattern;  // relative to the API's prefix, e.g. "cases/{reference}/claim"
    Handler handle;
};

template <class Handler>
class route_table {
  public:
    struct matched {
        const app::route<Handler>* entry;
        path_params params;
    };
    struct unmatched {
        int status;         // 404 or 405
        std::string allow;  // 405: the methods the path takes ("GET, POST")
    };

    explicit route_table(std::vector<route<Handler>> routes) : routes_(std::move(routes)) {
        for (const auto& r : routes_)
            patterns_.push_back(split(r.pattern));  // once, not per request
    }

    // `path` relative to the prefix, without query.
    std::variant<matched, unmatched> find(const std::string& method,
                                          const std::string& path) const {
        if (path.find("//") != std::string::npos || (!path.empty() && path.front() == '/'))
            return unmatched{404, ""};
        const auto segments = split(path);
        std::string allow;
        for (std::size_t i = 0; i < routes_.size(); ++i) {
            const auto& r = routes_[i];
            path_params params;
            if (!matches(patterns_[i], segments, params)) continue;
            if (r.method == method || r.method == "*") return matched{&r, std::move(params)};
            if (allow.find(r.method) == std::string::npos)
                allow += (allow.empty() ? "" : ", ") + r.method;
        }
        if (allow.empty()) return unmatched{404, ""};
        return unmatched{405, allow};
    }

    const std::vector<route<Handler>>& routes() const { return routes_; }

  private:
    static std::vector<std::string> split(const std::string& path) {
        std::vector<std::string> out;
        std::size_t start = 0;
        while (start <= path.size()) {
            auto slash = path.find('/', start);
            if (slash == std::string::npos) slash = path.size();
            if (slash > start) out.push_back(path.substr(start, slash - start));
            start = slash + 1;
        }
        return out;
    }
    static bool is_rest(const std::string& p) {
        return p.size() > 5 && p.front() == '{' && p.compare(p.size() - 4, 4, "...}") == 0;
    }
    static bool matches(const std::vector<std::string>& pattern,
                        const std::vector<std::string>& segments, path_params& params) {
        const bool rest = !pattern.empty() && is_rest(pattern.back());
        const std::size_t fixed = rest ? pattern.size() - 1 : pattern.size();
        if (rest ? segments.size() < fixed : segments.size() != fixed) return false;
        for (std::size_t i = 0; i < fixed; ++i) {
            const auto& p = pattern[i];
            if (p.size() > 2 && p.front() == '{' && p.back() == '}')
                params[p.substr(1, p.size() - 2)] = segments[i];
            else if (p != segments[i])
                return false;
        }
        if (rest) {
            std::string joined;
            for (std::size_t i = fixed; i < segments.size(); ++i)
                joined += (i == fixed ? "" : "/") + segments[i];
            params[pattern.back().substr(1, pattern.back().size() - 5)] = joined;
        }
        return true;
    }

    std::vector<route<Handler>> routes_;
    std::vector<std::vector<std::string>> patterns_;  // routes_[i].pattern in segments
};

}  // namespace gw::app
