#pragma once
// The Asio side of the submission listener: accepts on 127.0.0.1:PORT and [::1]:PORT (never
// another address), runs one SmtpSession per connection on the io thread, and hands each
// complete message to `deliver`, whose verdict becomes the reply to DATA. Limits: concurrent
// connections (421 beyond), an idle timeout while waiting for the client (421), a delay after
// each failed AUTH. A connection that goes away mid-DATA leaves nothing behind; one that goes
// away while its message is being relayed does not stop the relay (its verdict is dropped).
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "smtp/smtp_server.hpp"

namespace rapport::smtp {

struct ListenerOptions {
    std::uint16_t port = 0;
    SessionConfig session;
    std::size_t max_connections = 20;
    std::chrono::milliseconds idle_timeout{std::chrono::minutes(5)};  // RFC 5321 4.5.3.2.7
    std::chrono::milliseconds auth_failure_delay{std::chrono::seconds(2)};
    std::function<void(const std::string&)> log;
};

// Called on the io thread; `done(code, text)` must be called once, on the io thread.
using DeliverDone = std::function<void(int code, std::string text)>;
using Deliver = std::function<void(Envelope envelope, std::string data, DeliverDone done)>;

class SmtpListener {
public:
    // Throws std::system_error when 127.0.0.1:port cannot be bound ([::1] is optional: hosts
    // without IPv6 exist).
    SmtpListener(boost::asio::io_context& io, ListenerOptions options, Deliver deliver);
    ~SmtpListener();
    SmtpListener(const SmtpListener&) = delete;
    SmtpListener& operator=(const SmtpListener&) = delete;

    void stop();
    std::vector<std::string> endpoints() const;
    std::size_t connections() const;

    struct Impl;

private:
    std::shared_ptr<Impl> impl_;
};

}  // namespace rapport::smtp
