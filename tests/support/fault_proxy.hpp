#pragma once
// A fault-injecting TCP proxy for tests: listens on a free loopback port, forwards every
// connection to an upstream port on 127.0.0.1, and on the test's word breaks the traffic the
// way networks do — a cut after K more bytes, a cut when a pattern has passed (mid-FETCH,
// mid-IDLE, mid-APPEND, mid-DATA), a stall, a slow trickle. Each armed cut fires once, on
// whichever connection carries the byte it waits for, and is recorded under the test's label,
// so a test can assert that the faults it asked for really happened.
//
//   FaultProxy imap(dovecot.port());                 // the daemon connects to imap.port()
//   imap.cut_after(FaultProxy::to_server, 1234, "random");
//   imap.cut_on(FaultProxy::to_client, " FETCH (", 40, "mid-FETCH");   // 40 bytes further
//   imap.cut_on(FaultProxy::to_client, "[APPENDUID", -10, "APPEND reply lost");  // before it
//   imap.stall(1500ms);  imap.trickle(2000);  imap.trickle(0);
//   imap.cuts()  // label -> how many fired
//
// Threads and POSIX sockets only: one acceptor thread and one thread per connection (poll on
// both sockets). The destructor closes everything and joins, also when a test fails.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace rapport::test {

class FaultProxy {
public:
    enum Direction { to_server = 0, to_client = 1 };

    // What the proxy saw when it cut: for tests that must know in which protocol state a cut
    // landed (e.g. after an SMTP end-of-data, before the reply).
    struct CutRecord {
        std::string label;
        Direction direction;
        std::string tail[2];           // the last bytes forwarded in each direction
        std::optional<Direction> last;  // which direction forwarded bytes last
        std::chrono::steady_clock::time_point when;
    };

    explicit FaultProxy(int upstream_port) : upstream_port_(upstream_port) {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        if (listener_ < 0) throw std::runtime_error("fault proxy: socket() failed");
        int one = 1;
        setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        sockaddr_in addr = loopback(0);
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(listener_, 64) != 0)
            throw std::runtime_error(std::string("fault proxy: cannot listen on loopback: ") + std::strerror(errno));
        socklen_t len = sizeof addr;
        getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        acceptor_ = std::thread([this] { accept_loop(); });
    }

    ~FaultProxy() {
        stopping_ = true;
        ::shutdown(listener_, SHUT_RDWR);
        if (acceptor_.joinable()) acceptor_.join();
        ::close(listener_);
        std::vector<std::thread> threads;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            threads.swap(threads_);
        }
        for (auto& t : threads)
            if (t.joinable()) t.join();
    }
    FaultProxy(const FaultProxy&) = delete;
    FaultProxy& operator=(const FaultProxy&) = delete;

    int port() const { return port_; }

    // Cuts the connection that carries the K-th next byte in `direction` (K >= 1): exactly K-1
    // more bytes pass that way, then both sides are closed.
    void cut_after(Direction direction, std::size_t bytes, const std::string& label) {
        std::lock_guard<std::mutex> lock(mutex_);
        armed_.push_back({label, direction, std::max<std::size_t>(bytes, 1), {}, 0});
    }

    // Cuts the first connection on which `pattern` passes in `direction`, `offset` bytes after
    // the pattern's end (negative: before its end, down to -pattern.size() = none of it passes).
    void cut_on(Direction direction, const std::string& pattern, long offset, const std::string& label) {
        std::lock_guard<std::mutex> lock(mutex_);
        armed_.push_back({label, direction, 0, pattern, offset});
    }

    // Cuts every open connection now.
    void cut_all(const std::string& label) {
        std::lock_guard<std::mutex> lock(mutex_);
        for (auto& c : conns_)
            if (!c->cut) cut_locked(*c, to_server, label);
    }

    // Forwards nothing (either way, every connection) for this long; bytes wait, none are lost.
    void stall(std::chrono::milliseconds duration) {
        std::lock_guard<std::mutex> lock(mutex_);
        stall_until_ = std::chrono::steady_clock::now() + duration;
        ++stalls_;
    }

    // Forwards at most this many bytes per second per direction and connection; 0 = full speed.
    void trickle(std::size_t bytes_per_second) {
        std::lock_guard<std::mutex> lock(mutex_);
        trickle_ = bytes_per_second;
        if (bytes_per_second) ++trickles_;
    }

    // Drops the armed cuts that have not fired; returns how many there were.
    std::size_t disarm() {
        std::lock_guard<std::mutex> lock(mutex_);
        const std::size_t n = armed_.size();
        armed_.clear();
        return n;
    }
    std::size_t armed() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return armed_.size();
    }

    std::map<std::string, std::size_t> cuts() const {
        std::lock_guard<std::mutex> lock(mutex_);
        std::map<std::string, std::size_t> n;
        for (const auto& r : records_) ++n[r.label];
        return n;
    }
    std::size_t cut_count() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return records_.size();
    }
    std::vector<CutRecord> records() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return records_;
    }
    std::size_t connections() const { return accepted_; }
    std::size_t stalls() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return stalls_;
    }
    std::size_t trickles() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return trickles_;
    }

private:
    static constexpr std::size_t kTail = 256;

    struct Armed {
        std::string label;
        Direction direction;
        std::size_t bytes_left;  // for cut_after; 0 for a pattern
        std::string pattern;
        long offset;
    };
    struct Conn {
        int fd[2] = {-1, -1};  // [to_server] is read from the client, [to_client] from the server
        bool cut = false;
        std::string tail[2];
        std::optional<Direction> last;
        // A pattern that passed on this connection: cut when `countdown` more bytes have gone.
        struct Pending {
            std::string label;
            Direction direction;
            long countdown;
        };
        std::vector<Pending> pending;
    };

    static sockaddr_in loopback(int port) {
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = htons(static_cast<uint16_t>(port));
        return addr;
    }

    void accept_loop() {
        while (!stopping_) {
            const int client = ::accept(listener_, nullptr, nullptr);
            if (client < 0) {
                if (stopping_) return;
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
                continue;
            }
            const int server = ::socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in addr = loopback(upstream_port_);
            if (server < 0 || ::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
                ::close(client);  // upstream down: the client sees a refused/closed connection
                if (server >= 0) ::close(server);
                continue;
            }
            ++accepted_;
            auto conn = std::make_shared<Conn>();
            conn->fd[to_server] = client;
            conn->fd[to_client] = server;
            std::lock_guard<std::mutex> lock(mutex_);
            conns_.push_back(conn);
            threads_.emplace_back([this, conn] { pump(conn); });
        }
    }

    // Ends both sides: what was forwarded is delivered, nothing after it. A FIN, not a reset:
    // a reset makes the receiver drop bytes it has not read yet, so a server would never see
    // the end of a message whose reply the cut loses — the case that matters most.
    void cut_locked(Conn& c, Direction direction, const std::string& label) {
        c.cut = true;
        for (int fd : c.fd) ::shutdown(fd, SHUT_RDWR);
        records_.push_back({label, direction, {c.tail[0], c.tail[1]}, c.last, std::chrono::steady_clock::now()});
    }

    // How many of these `n` bytes in `dir` pass; `label` is set when the connection is cut
    // right after them (also when all n pass: a cut just after a chunk's last byte). Arms the
    // pattern cuts this data completes. Called with the lock held.
    std::size_t allowed_locked(Conn& c, Direction dir, const char* data, std::size_t n, std::optional<std::string>* label) {
        std::size_t allow = n;
        auto cut_at = [&](std::size_t at, const std::string& why) {
            if (at < allow || (at == allow && !*label)) {
                allow = at;
                *label = why;
            }
        };
        // Pattern cuts already triggered on this connection.
        for (const auto& p : c.pending)
            if (p.direction == dir && static_cast<std::size_t>(std::max(0L, p.countdown)) <= n)
                cut_at(static_cast<std::size_t>(std::max(0L, p.countdown)), p.label);
        // Armed cuts: byte counts and patterns.
        const std::string window = c.tail[dir] + std::string(data, n);
        for (auto it = armed_.begin(); it != armed_.end();) {
            if (it->direction != dir) {
                ++it;
                continue;
            }
            if (it->pattern.empty()) {
                if (it->bytes_left <= n) {
                    cut_at(it->bytes_left - 1, it->label);
                    it = armed_.erase(it);
                } else {
                    it->bytes_left -= n;
                    ++it;
                }
                continue;
            }
            // Only an occurrence that ends in this chunk: one wholly in the tail passed earlier.
            const std::size_t from = c.tail[dir].size() + 1 > it->pattern.size()
                                         ? c.tail[dir].size() + 1 - it->pattern.size() : 0;
            const std::size_t at = window.find(it->pattern, from);
            if (at == std::string::npos) {
                ++it;
                continue;
            }
            // Position of the cut in this chunk (bytes of the window before `data` already went).
            const long end = static_cast<long>(at + it->pattern.size()) - static_cast<long>(c.tail[dir].size());
            const long at_byte = std::max(0L, end + it->offset);
            if (at_byte <= static_cast<long>(n)) cut_at(static_cast<std::size_t>(at_byte), it->label);
            else c.pending.push_back({it->label, dir, at_byte});
            it = armed_.erase(it);
        }
        return allow;
    }

    void remember_locked(Conn& c, Direction dir, const char* data, std::size_t n) {
        c.tail[dir].append(data, n);
        if (c.tail[dir].size() > kTail) c.tail[dir].erase(0, c.tail[dir].size() - kTail);
        c.last = dir;
        for (auto& p : c.pending)
            if (p.direction == dir) p.countdown -= static_cast<long>(n);
    }

    static bool send_all(int fd, const char* data, std::size_t n) {
        while (n > 0) {
            const ssize_t w = ::send(fd, data, n, MSG_NOSIGNAL);
            if (w <= 0) return false;
            data += w;
            n -= static_cast<std::size_t>(w);
        }
        return true;
    }

    void pump(std::shared_ptr<Conn> c) {
        char buf[16384];
        while (!stopping_) {
            std::size_t limit = sizeof buf;
            bool trickling = false;
            {
                std::lock_guard<std::mutex> lock(mutex_);
                if (c->cut) break;
                if (std::chrono::steady_clock::now() < stall_until_) limit = 0;
                else if (trickle_) {
                    trickling = true;
                    limit = std::max<std::size_t>(1, std::min(limit, trickle_ / 20));
                }
            }
            if (limit == 0) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
                continue;
            }
            pollfd fds[2] = {{c->fd[to_server], POLLIN, 0}, {c->fd[to_client], POLLIN, 0}};
            if (::poll(fds, 2, 50) < 0) break;
            bool closed = false;
            for (int dir = 0; dir < 2 && !closed; ++dir) {
                if (!(fds[dir].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                const ssize_t r = ::recv(c->fd[dir], buf, limit, 0);
                if (r <= 0) {
                    closed = true;  // one side closed: pass that on by closing the other
                    break;
                }
                std::optional<std::string> label;
                std::size_t allow;
                {
                    std::lock_guard<std::mutex> lock(mutex_);
                    if (c->cut) {
                        closed = true;
                        break;
                    }
                    allow = allowed_locked(*c, static_cast<Direction>(dir), buf, static_cast<std::size_t>(r), &label);
                }
                const int out = c->fd[1 - dir];
                if (allow > 0 && !send_all(out, buf, allow)) closed = true;
                std::lock_guard<std::mutex> lock(mutex_);
                if (allow > 0) remember_locked(*c, static_cast<Direction>(dir), buf, allow);
                if (label) {
                    if (!c->cut) cut_locked(*c, static_cast<Direction>(dir), *label);
                    closed = true;
                }
            }
            if (trickling) std::this_thread::sleep_for(std::chrono::milliseconds(50));
            if (closed) break;
        }
        std::lock_guard<std::mutex> lock(mutex_);
        for (int& fd : c->fd) {
            ::shutdown(fd, SHUT_RDWR);
            ::close(fd);
            fd = -1;
        }
        c->cut = true;
        conns_.erase(std::remove(conns_.begin(), conns_.end(), c), conns_.end());
    }

    int upstream_port_;
    int listener_ = -1;
    int port_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<std::size_t> accepted_{0};
    std::thread acceptor_;
    mutable std::mutex mutex_;
    std::vector<std::thread> threads_;
    std::vector<std::shared_ptr<Conn>> conns_;
    std::vector<Armed> armed_;
    std::vector<CutRecord> records_;
    std::chrono::steady_clock::time_point stall_until_{};
    std::size_t trickle_ = 0;
    std::size_t stalls_ = 0, trickles_ = 0;
};

}  // namespace rapport::test
