#pragma once
// The baseline for IMAP benchmarks: a blocking socket that sends a command line and reads
// until the tagged answer, parsing nothing else — the least work a client can do.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <stdexcept>
#include <string>

namespace rapport::test {

class RawClient {
public:
    explicit RawClient(int port) {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<std::uint16_t>(port));
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            throw std::runtime_error("raw connect failed");
        read_until("* OK");
    }
    ~RawClient() { ::close(fd_); }
    RawClient(const RawClient&) = delete;
    RawClient& operator=(const RawClient&) = delete;

    // Sends a command (text may carry a LITERAL+ literal) and reads until "TAG OK"/"NO"/"BAD";
    // returns the bytes read.
    std::size_t command(const std::string& tag, const std::string& text) {
        const std::string line = tag + " " + text + "\r\n";
        if (::send(fd_, line.data(), line.size(), 0) != static_cast<ssize_t>(line.size()))
            throw std::runtime_error("raw send failed");
        return read_until("\r\n" + tag + " ");
    }

    // For IDLE: send a line without waiting, then wait for an untagged marker such as "EXISTS".
    void send_line(const std::string& text) {
        const std::string line = text + "\r\n";
        if (::send(fd_, line.data(), line.size(), 0) != static_cast<ssize_t>(line.size()))
            throw std::runtime_error("raw send failed");
    }
    std::size_t wait_for(const std::string& marker) { return read_until(marker); }

private:
    std::size_t read_until(const std::string& marker) {
        std::string window = "\r\n";  // a response may start right at the first byte
        std::size_t total = 0;
        char buf[256 * 1024];
        for (;;) {
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) throw std::runtime_error("raw recv failed");
            total += static_cast<std::size_t>(n);
            window.append(buf, static_cast<std::size_t>(n));
            const auto at = window.find(marker);
            if (at != std::string::npos && window.find("\r\n", at + marker.size()) != std::string::npos)
                return total;
            if (window.size() > marker.size() + 64) window.erase(0, window.size() - marker.size() - 64);
        }
    }
    int fd_ = -1;
};

}  // namespace rapport::test
