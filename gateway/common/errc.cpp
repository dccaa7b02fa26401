#include "common/errc.hpp"

namespace gw {

const char* errc_name(errc kind) {
    switch (kind) {
        case errc::bad_request:
            return "bad_request";
        case errc::unauthorized:
            return "unauthorized";
        case errc::forbidden:
            return "forbidden";
        case errc::not_found:
            return "not_found";
        case errc::conflict:
            return "conflict";
        case errc::too_many:
            return "too_many";
        case errc::unavailable:
            return "unavailable";
    }
    return "bad_request";
}

}  // namespace gw
