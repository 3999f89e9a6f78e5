// lookup and compose.check round trips against a real rapportd with 10,000 accounts loaded,
// over one connection and over 50 concurrent ones; next to two bare WebSocket echo floors
// (Beast echo servers in this process, same client code) measured in the same run:
//   threaded echo: one synchronous thread per connection, so 50 connections use every core;
//   1-thread echo: asynchronous, one io thread, the shape of rapportd (which answers on one).
// Prints requests/s, median and 99th percentile latency, and the ratios to both floors.
// usage: bench_api [requests-per-scenario]
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "ws_client.hpp"

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = boost::asio::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// A bare echo server: one thread per connection, synchronous; the floor for a round trip.
void echo_server(tcp::acceptor& acceptor, std::atomic<bool>& stop) {
    while (!stop) {
        tcp::socket socket(acceptor.get_executor());
        boost::system::error_code ec;
        acceptor.accept(socket, ec);
        if (ec) return;
        std::thread([s = std::move(socket)]() mutable {
            try {
                websocket::stream<tcp::socket> ws(std::move(s));
                ws.accept();
                beast::flat_buffer buffer;
                for (;;) {
                    ws.read(buffer);
                    ws.text(true);
                    ws.write(buffer.data());
                    buffer.consume(buffer.size());
                }
            } catch (...) {
            }
        }).detach();
    }
}

// The same echo, asynchronous on one thread: what one io thread can do with no work per frame.
class AsyncEchoSession : public std::enable_shared_from_this<AsyncEchoSession> {
public:
    explicit AsyncEchoSession(tcp::socket socket) : ws_(std::move(socket)) {}
    void start() {
        ws_.async_accept([self = shared_from_this()](beast::error_code ec) {
            if (!ec) self->read();
        });
    }

private:
    void read() {
        ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return;
            self->ws_.text(true);
            self->ws_.async_write(self->buffer_.data(), [self](beast::error_code ec2, std::size_t) {
                if (ec2) return;
                self->buffer_.consume(self->buffer_.size());
                self->read();
            });
        });
    }
    websocket::stream<tcp::socket> ws_;
    beast::flat_buffer buffer_;
};

void async_accept_loop(tcp::acceptor& acceptor) {
    acceptor.async_accept([&acceptor](beast::error_code ec, tcp::socket socket) {
        if (ec) return;
        std::make_shared<AsyncEchoSession>(std::move(socket))->start();
        async_accept_loop(acceptor);
    });
}

// Runs the one-thread echo server until destroyed (also when the bench fails).
struct SingleThreadEcho {
    boost::asio::io_context io{1};
    tcp::acceptor acceptor{io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)};
    std::thread thread;
    SingleThreadEcho() {
        async_accept_loop(acceptor);
        thread = std::thread([this] { io.run(); });
    }
    ~SingleThreadEcho() {
        io.stop();
        thread.join();
    }
    std::uint16_t port() const { return acceptor.local_endpoint().port(); }
};

struct Result {
    double seconds = 0;
    std::vector<double> latencies_us;
};

struct Summary {
    double per_second = 0, median = 0, p99 = 0;
};

struct Floors {
    Summary threaded, single;
};

void print_ratios(const char* label, const Summary& floor, const Summary& s) {
    std::printf("%-34s   %s: %.2fx throughput, %.2fx median, %.2fx p99\n", "", label, floor.per_second / s.per_second,
                s.median / floor.median, s.p99 / floor.p99);
}

// Prints a scenario; with floors, also its ratios to each (floor / it for throughput, it / floor
// for latency: bigger is slower in all three).
Summary report(const char* name, Result r, const Floors* floors = nullptr) {
    std::sort(r.latencies_us.begin(), r.latencies_us.end());
    Summary s{r.latencies_us.size() / r.seconds, r.latencies_us[r.latencies_us.size() / 2],
              r.latencies_us[r.latencies_us.size() * 99 / 100]};
    std::printf("%-34s %9.0f req/s   median %7.1f us   p99 %7.1f us\n", name, s.per_second, s.median, s.p99);
    if (floors) {
        print_ratios("vs threaded echo (1 thread/conn)", floors->threaded, s);
        print_ratios("vs 1-thread async echo          ", floors->single, s);
    }
    return s;
}

// `connections` clients, each sending `per_connection` requests back to back.
Result run(std::uint16_t port, int connections, int per_connection, const std::string& token,
           const std::function<std::string(int)>& make_request) {
    std::vector<std::vector<double>> lat(connections);
    std::vector<std::thread> threads;
    std::atomic<int> ready{0};
    std::atomic<bool> go{false};
    for (int c = 0; c < connections; ++c) {
        threads.emplace_back([&, c]() {
            rapport::api::WsClient client;
            client.connect(port, 10s);
            if (!token.empty()) {
                client.send_text(nlohmann::json{{"jsonrpc", "2.0"}, {"id", 0}, {"method", "hello"},
                                                {"params", {{"token", token}, {"client", "bench"}, {"version", "1"}}}}.dump(), 5s);
                client.receive_text(5s);
            }
            ++ready;
            while (!go) std::this_thread::yield();
            for (int i = 0; i < per_connection; ++i) {
                const std::string request = make_request(c * per_connection + i);
                const auto t0 = Clock::now();
                client.send_text(request, 5s);
                client.receive_text(5s);
                lat[c].push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
            }
            client.close(1s);
        });
    }
    while (ready < connections) std::this_thread::sleep_for(1ms);
    const auto t0 = Clock::now();
    go = true;
    for (auto& t : threads) t.join();
    Result r;
    r.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    for (auto& l : lat) r.latencies_us.insert(r.latencies_us.end(), l.begin(), l.end());
    return r;
}

int free_port() {
    boost::asio::io_context io;
    tcp::acceptor a(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

}  // namespace

int main(int argc, char** argv) {
    const int requests = argc > 1 ? std::atoi(argv[1]) : 20000;
    char tmpl[] = "/tmp/rapport-bench-api-XXXXXX";
    const std::string dir = mkdtemp(tmpl);
    {
        std::ofstream rules(dir + "/rules.json");
        rules << R"({"organization": {"name": "Vendor", "domains": ["vendor.example"]}, "people": [)";
        for (int p = 0; p < 100; ++p)
            rules << (p ? "," : "") << R"({"id": "rep)" << p << R"(", "name": "Rep )" << p << R"(", "addresses": ["rep)" << p << R"(@vendor.example"]})";
        rules << R"(], "accounts": [)";
        for (int a = 0; a < 10000; ++a) {
            rules << (a ? "," : "") << R"({"id": "a)" << a << R"(", "name": "Account )" << a << R"(", "domains": ["a)" << a
                  << R"(.example"], "owner": "rep)" << a % 100 << R"(", "contacts": [)";
            for (int c = 0; c < 10; ++c) rules << (c ? "," : "") << R"({"address": "p)" << c << "@a" << a << R"(.example"})";
            rules << "]}";
        }
        rules << "]}";
    }
    const int port = free_port();
    std::ofstream(dir + "/settings.json") << R"({"user": {"name": "Mia", "address": "mia@vendor.example"}, "rules": "rules.json", )"
                                          << R"("state_dir": "state", "log_level": "warning", "api": {"port": )" << port
                                          << R"(, "token_file": "state/token"}})";
    const pid_t daemon = fork();
    if (daemon == 0) {
        execl((std::string(RAPPORT_BINARY_DIR) + "/bin/rapportd").c_str(), "rapportd", "--config",
              (dir + "/settings.json").c_str(), nullptr);
        _exit(127);
    }
    std::string token;
    for (int i = 0; i < 200 && token.empty(); ++i) {
        std::this_thread::sleep_for(50ms);
        std::ifstream t(dir + "/state/token");
        std::getline(t, token);
    }
    std::this_thread::sleep_for(300ms);

    boost::asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    std::atomic<bool> stop{false};
    std::thread echo([&] { echo_server(acceptor, stop); });
    const auto echo_port = acceptor.local_endpoint().port();
    SingleThreadEcho single_echo;

    auto lookup = [](int i) {
        return nlohmann::json{{"jsonrpc", "2.0"}, {"id", i}, {"method", "lookup"},
                              {"params", {{"addresses", {"Person <p" + std::to_string(i % 10) + "@a" + std::to_string(i % 10000) + ".example>"}}}}}.dump();
    };
    auto compose = [](int i) {
        return nlohmann::json{{"jsonrpc", "2.0"}, {"id", i}, {"method", "compose.check"},
                              {"params", {{"from", "mia@vendor.example"},
                                          {"to", {"p1@a" + std::to_string(i % 10000) + ".example", "x@gmail.com"}},
                                          {"cc", {"someone@sub.a" + std::to_string((i * 7) % 10000) + ".example"}}}}}.dump();
    };
    std::printf("rapportd with 10,000 accounts and 100,000 contacts; %d requests per scenario\n", requests);
    Floors floor1;
    floor1.threaded = report("threaded echo floor, 1 connection", run(echo_port, 1, requests, "", lookup));
    floor1.single = report("1-thread echo floor, 1 connection", run(single_echo.port(), 1, requests, "", lookup));
    report("lookup, 1 connection", run(port, 1, requests, token, lookup), &floor1);
    report("compose.check, 1 connection", run(port, 1, requests, token, compose), &floor1);
    Floors floor50;
    floor50.threaded = report("threaded echo floor, 50 conns", run(echo_port, 50, requests / 50, "", lookup));
    floor50.single = report("1-thread echo floor, 50 conns", run(single_echo.port(), 50, requests / 50, "", lookup));
    report("lookup, 50 connections", run(port, 50, requests / 50, token, lookup), &floor50);
    report("compose.check, 50 connections", run(port, 50, requests / 50, token, compose), &floor50);

    stop = true;
    acceptor.close();
    kill(daemon, SIGTERM);
    waitpid(daemon, nullptr, 0);
    echo.detach();
    std::system(("rm -rf " + dir).c_str());
    return 0;
}
