#include "client_context.hpp"

#include <map>
#include <mutex>

#include <openssl/ssl.h>

namespace rapport::tls {

namespace ssl = boost::asio::ssl;

std::shared_ptr<ssl::context> client_context(const std::string& ca_file, boost::system::error_code& ec) {
    static std::mutex mutex;
    static std::map<std::string, std::weak_ptr<ssl::context>> contexts;  // by ca_file
    std::lock_guard<std::mutex> lock(mutex);
    if (auto shared = contexts[ca_file].lock()) {
        ec.clear();
        return shared;
    }
    auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    context->set_default_verify_paths(ec);
    if (!ec && !ca_file.empty()) context->load_verify_file(ca_file, ec);
    if (ec) return nullptr;
    context->set_verify_mode(ssl::verify_peer);
    contexts[ca_file] = context;
    return context;
}

}  // namespace rapport::tls
