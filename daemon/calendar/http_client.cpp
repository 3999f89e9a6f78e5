// The only translation unit that includes Beast (each one costs ~30 s and ~1 GB to compile).
#include "calendar/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

#include "client_context.hpp"

namespace rapport::calendar {
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;

namespace {

// Runs one asynchronous step to completion on a private io_context. The stream's deadline
// (expires_after) cancels it, which is how blocking calls get timeouts.
template <typename Start>
error_code run_step(net::io_context& io, Start start) {
    error_code result = net::error::would_block;
    start([&result](error_code ec, auto&&...) { result = ec; });
    io.restart();
    io.run();
    return result;
}

// Each step (resolve, connect, handshake, write, every read) gets `step`, and all of them
// together `whole`: a server that trickles a byte now and then never trips the per-step
// timeout, but it cannot hold the calling thread past the whole exchange's.
struct Deadlines {
    std::chrono::steady_clock::time_point whole;
    std::chrono::seconds step;
    std::chrono::steady_clock::time_point next() const { return std::min(std::chrono::steady_clock::now() + step, whole); }
};

std::string describe(const std::string& step, const error_code& ec) {
    if (ec == beast::error::timeout) return step + ": timed out";
    return step + ": " + ec.message();
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

bool is_ip_literal(const std::string& host) {
    error_code ec;
    net::ip::make_address(host, ec);
    return !ec;
}

template <typename Stream>
HttpResponse exchange_on(net::io_context& io, Stream& stream, beast::tcp_stream& lowest, const HttpRequest& request,
                         const Deadlines& deadlines) {
    HttpResponse response;
    http::request<http::string_body> message{http::string_to_verb(request.method), request.url.target, 11};
    if (message.method() == http::verb::unknown) message.method_string(request.method);
    const bool default_port = request.url.port == (request.url.tls ? "443" : "80");
    const std::string host = request.url.host.find(':') != std::string::npos ? "[" + request.url.host + "]"
                                                                              : request.url.host;
    message.set(http::field::host, default_port ? host : host + ":" + request.url.port);
    message.set(http::field::user_agent, "rapportd");
    message.set(http::field::accept_encoding, "identity");
    message.set(http::field::connection, "close");
    for (const auto& [name, value] : request.headers) message.set(name, value);
    message.body() = request.body;
    message.prepare_payload();

    lowest.expires_at(deadlines.next());
    if (auto ec = run_step(io, [&](auto handler) { http::async_write(stream, message, handler); })) {
        response.error = describe("sending the request", ec);
        return response;
    }
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.header_limit(64 * 1024);
    parser.body_limit(request.max_body);
    const std::string too_large = "response larger than " + std::to_string(request.max_body) + " bytes";
    // Header first: Boost 1.74's parser drops the body_limit error when the header and the
    // start of the body arrive in one read (eager mode), so the length is checked here.
    lowest.expires_at(deadlines.next());
    if (auto ec = run_step(io, [&](auto handler) { http::async_read_header(stream, buffer, parser, handler); })) {
        response.error = ec == http::error::body_limit ? too_large : describe("reading the response", ec);
        return response;
    }
    if (parser.content_length() && *parser.content_length() > request.max_body) {
        response.error = too_large;
        return response;
    }
    // The body piece by piece, so a chunked or close-delimited reply cannot outgrow the limit
    // either, whatever the parser reports.
    while (!parser.is_done()) {
        lowest.expires_at(deadlines.next());
        if (auto ec = run_step(io, [&](auto handler) { http::async_read_some(stream, buffer, parser, handler); })) {
            response.error = ec == http::error::body_limit ? too_large : describe("reading the response", ec);
            return response;
        }
        if (parser.get().body().size() > request.max_body) {
            response.error = too_large;
            return response;
        }
    }
    auto& reply = parser.get();
    response.status = static_cast<int>(reply.result_int());
    for (const auto& field : reply) {
        std::string name = lower(std::string(field.name_string()));
        auto [it, fresh] = response.headers.emplace(name, std::string(field.value()));
        if (!fresh) it->second += ", " + std::string(field.value());
    }
    response.body = std::move(reply.body());
    return response;
}

}  // namespace

std::string basic_authorization(const std::string& user, const std::string& password) {
    static const char* const kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const std::string plain = user + ":" + password;
    std::string encoded;
    for (std::size_t i = 0; i < plain.size(); i += 3) {
        const std::size_t n = std::min<std::size_t>(3, plain.size() - i);
        unsigned chunk = 0;
        for (std::size_t k = 0; k < 3; ++k)
            chunk = (chunk << 8) | (k < n ? static_cast<unsigned char>(plain[i + k]) : 0u);
        for (std::size_t k = 0; k < 4; ++k)
            encoded += k <= n ? kAlphabet[(chunk >> (18 - 6 * k)) & 0x3F] : '=';
    }
    return "Basic " + encoded;
}

HttpResponse http_exchange(const HttpRequest& request) {
    HttpResponse failed;
    try {
        const Deadlines deadlines{std::chrono::steady_clock::now() + request.total_timeout, request.timeout};
        net::io_context io;
        tcp::resolver resolver(io);
        tcp::resolver::results_type endpoints;
        beast::tcp_stream tcp_stream(io);

        // The resolver has no deadline of its own: a timer cancels it, and the lookup's end
        // cancels the timer so the io_context runs dry.
        net::steady_timer resolve_deadline(io, deadlines.next());
        resolve_deadline.async_wait([&resolver](error_code ec) {
            if (!ec) resolver.cancel();
        });
        error_code ec = run_step(io, [&](auto handler) {
            resolver.async_resolve(request.url.host, request.url.port,
                                   [&, handler](error_code e, tcp::resolver::results_type r) mutable {
                                       resolve_deadline.cancel();
                                       endpoints = std::move(r);
                                       handler(e);
                                   });
        });
        if (ec) {
            failed.error = describe("resolving " + request.url.host, ec);
            return failed;
        }
        tcp_stream.expires_at(deadlines.next());
        ec = run_step(io, [&](auto handler) {
            tcp_stream.async_connect(endpoints, [handler](error_code e, const tcp::endpoint&) mutable { handler(e); });
        });
        if (ec) {
            failed.error = describe("connecting to " + request.url.origin(), ec);
            return failed;
        }
        if (!request.url.tls) return exchange_on(io, tcp_stream, tcp_stream, request, deadlines);

        const auto context = tls::client_context(request.ca_file, ec);
        if (!context) {
            failed.error = (request.ca_file.empty() ? std::string("cannot load the system's CA certificates")
                                                    : "cannot load CA file " + request.ca_file) +
                           ": " + ec.message();
            return failed;
        }
        beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), *context);
        stream.set_verify_callback(ssl::host_name_verification(request.url.host));
        if (!is_ip_literal(request.url.host) &&
            !SSL_set_tlsext_host_name(stream.native_handle(), request.url.host.c_str())) {
            failed.error = "TLS: cannot set SNI host name";
            return failed;
        }
        beast::get_lowest_layer(stream).expires_at(deadlines.next());
        ec = run_step(io, [&](auto handler) { stream.async_handshake(ssl::stream_base::client, handler); });
        if (ec) {
            failed.error = describe("TLS handshake with " + request.url.origin(), ec);
            return failed;
        }
        HttpResponse response = exchange_on(io, stream, beast::get_lowest_layer(stream), request, deadlines);
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
        run_step(io, [&](auto handler) { stream.async_shutdown(handler); });  // servers often just close
        return response;
    } catch (const std::exception& e) {  // allocation failures, bad option strings
        failed.error = std::string("HTTP client: ") + e.what();
        return failed;
    }
}

}  // namespace rapport::calendar
