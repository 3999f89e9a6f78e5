#pragma once
// One HTTP(S) exchange, blocking the calling thread (calendar fetches run off the core strand).
// TLS is verified against the system CA store (plus an optional extra PEM file) with SNI and
// host name checks. Every step has a deadline, and so has the whole exchange; bodies have a
// size limit. Never throws.
#include <chrono>
#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "calendar/url.hpp"

namespace rapport::calendar {

struct HttpRequest {
    std::string method = "GET";
    Url url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::seconds timeout{30};  // per step: resolve, connect, handshake, write, read
    std::chrono::seconds total_timeout{120};  // all steps together, however slowly bytes trickle in
    std::size_t max_body = 16 * 1024 * 1024;
    std::string ca_file;  // extra trust anchors (PEM), e.g. a company CA or a test CA
};

struct HttpResponse {
    int status = 0;                              // 0 when error is set
    std::map<std::string, std::string> headers;  // names in lower case
    std::string body;
    std::string error;  // transport failure: DNS, connect, TLS, timeout, too large

    std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

HttpResponse http_exchange(const HttpRequest& request);

std::string basic_authorization(const std::string& user, const std::string& password);

}  // namespace rapport::calendar
