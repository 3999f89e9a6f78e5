#pragma once
// One TLS client context per CA file, shared by every connection that uses it. Loading the
// system's CA store (~140 PEM certificates) took ~15 ms of CPU, and each IMAP connection and
// each calendar fetch used to do it again: at start-up that was half of rapportd's CPU before
// its first IMAP command. The context lives while any connection holds it; the next one after
// that reads the store again, so an updated CA bundle is picked up without a restart.
//
// Policy, the same for every caller: TLS 1.2 or later, the peer verified against the system's
// store plus ca_file (if any). Host name verification and SNI are per connection (the caller's).
#include <memory>
#include <string>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/error_code.hpp>

namespace rapport::tls {

// Thread-safe. On failure (the store or ca_file cannot be read) returns nullptr and sets ec.
std::shared_ptr<boost::asio::ssl::context> client_context(const std::string& ca_file, boost::system::error_code& ec);

}  // namespace rapport::tls
