#include "common/diagnostic.hpp"

namespace gw {

std::string format(const diagnostic& d) {
    std::string out = d.where.file;
    if (d.where.line > 0) out += ":" + std::to_string(d.where.line);
    out += d.warning ? ": warning: " : ": error: ";
    out += d.message;
    return out;
}

bool has_errors(const std::vector<diagnostic>& ds) {
    for (const auto& d : ds)
        if (!d.warning) return true;
    return false;
}

}  // namespace gw
