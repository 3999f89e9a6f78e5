#pragma once
// A real CalDAV server for tests: /usr/bin/radicale with its own config, storage and htpasswd
// file in a TempDir, on a free loopback port. Stopped (and its files removed) in the destructor.
// dav_request() is a minimal plain-HTTP client for setting up collections and events.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "test_process.hpp"

namespace rapport::test {

struct HttpReply {
    int status = 0;
    std::string headers;
    std::string body;
};

// One request over a fresh connection (Connection: close), read to EOF. Plain HTTP only.
inline HttpReply raw_http(int port, const std::string& method, const std::string& target,
                          const std::vector<std::pair<std::string, std::string>>& headers = {},
                          const std::string& body = {}) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        close(fd);
        throw std::runtime_error("cannot connect to port " + std::to_string(port));
    }
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                          "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    for (const auto& [name, value] : headers) request += name + ": " + value + "\r\n";
    request += "\r\n" + body;
    for (std::size_t sent = 0; sent < request.size();) {
        ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<std::size_t>(n);
    }
    std::string response;
    char buf[65536];
    for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) response.append(buf, static_cast<std::size_t>(n));
    close(fd);
    HttpReply reply;
    const auto head_end = response.find("\r\n\r\n");
    if (response.size() < 12 || head_end == std::string::npos) throw std::runtime_error("bad HTTP reply: " + response);
    reply.status = std::stoi(response.substr(9, 3));
    reply.headers = response.substr(0, head_end);
    reply.body = response.substr(head_end + 4);
    return reply;
}

inline std::string base64(const std::string& in) {
    static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned value = 0;
    int bits = -6;
    for (unsigned char c : in) {
        value = (value << 8) + c;
        bits += 8;
        while (bits >= 0) {
            out.push_back(table[(value >> bits) & 0x3F]);
            bits -= 6;
        }
    }
    if (bits > -6) out.push_back(table[((value << 8) >> (bits + 8)) & 0x3F]);
    while (out.size() % 4) out.push_back('=');
    return out;
}

class RadicaleServer {
public:
    struct Options {
        bool auth = true;  // htpasswd (plain) with user/password; false: no authentication
        std::string user = "rep";
        std::string password = "s3cret:pass";
        std::string certificate;  // PEM files: serve HTTPS instead of HTTP
        std::string key;
    };

    RadicaleServer() : RadicaleServer(Options{}) {}
    explicit RadicaleServer(Options options) : options_(std::move(options)), port_(free_port()) {
        const std::string config = dir_ / "config";
        std::string text = "[server]\nhosts = 127.0.0.1:" + std::to_string(port_) + "\n";
        if (!options_.certificate.empty())
            text += "ssl = True\ncertificate = " + options_.certificate + "\nkey = " + options_.key + "\n";
        if (options_.auth) {
            write_file(dir_ / "users", options_.user + ":" + options_.password + "\n");
            text += "[auth]\ntype = htpasswd\nhtpasswd_filename = " + (dir_ / "users") +
                    "\nhtpasswd_encryption = plain\ndelay = 0\n[rights]\ntype = owner_only\n";
        } else {
            // Anonymous requests are user "": only a rights file lets them in.
            write_file(dir_ / "rights", "[anyone]\nuser: .*\ncollection: .*\npermissions: RrWw\n");
            text += "[auth]\ntype = none\n[rights]\ntype = from_file\nfile = " + (dir_ / "rights") + "\n";
        }
        text += "[storage]\nfilesystem_folder = " + (dir_ / "collections") + "\n[logging]\nlevel = info\n";
        write_file(config, text);
        child_ = std::make_unique<Child>(std::vector<std::string>{"/usr/bin/radicale", "--config", config},
                                         dir_ / "radicale.log");
        if (!wait_for_port(port_, std::chrono::seconds(20)))
            throw std::runtime_error("radicale did not start: " + child_->log());
    }

    int port() const { return port_; }
    const Options& options() const { return options_; }
    std::string log() const { return child_->log(); }
    // "http://127.0.0.1:PORT" (https when a certificate was given).
    std::string origin() const {
        return std::string(options_.certificate.empty() ? "http" : "https") + "://127.0.0.1:" + std::to_string(port_);
    }
    // The path of a calendar collection: under the test user's principal, or at the top
    // level without authentication (anonymous users have no principal collection).
    std::string collection_path(const std::string& name) const {
        return options_.auth ? "/" + options_.user + "/" + name + "/" : "/" + name + "/";
    }

    // A request with the test user's credentials (plain HTTP servers only).
    HttpReply dav_request(const std::string& method, const std::string& path, const std::string& body = {},
                          std::vector<std::pair<std::string, std::string>> headers = {}) const {
        if (options_.auth)
            headers.emplace_back("Authorization", "Basic " + base64(options_.user + ":" + options_.password));
        if (!body.empty()) headers.emplace_back("Content-Type", "text/calendar; charset=utf-8");
        return raw_http(port_, method, path, headers, body);
    }

    HttpReply make_calendar(const std::string& name) const {
        return dav_request("MKCALENDAR", collection_path(name));
    }
    HttpReply put_event(const std::string& calendar, const std::string& file, const std::string& ics) const {
        return dav_request("PUT", collection_path(calendar) + file, ics);
    }
    HttpReply delete_event(const std::string& calendar, const std::string& file) const {
        return dav_request("DELETE", collection_path(calendar) + file);
    }

private:
    Options options_;
    TempDir dir_;
    int port_;
    std::unique_ptr<Child> child_;
};

}  // namespace rapport::test
