// Header sync speed: Rapport's pipelined fetch against a minimal raw client that sends one
// "UID FETCH 1:*" and reads to the tagged OK, on the same Dovecot folder in the same run.
//   imap_fetch_bench [MESSAGES=100000] [BATCH=500] [IN_FLIGHT=4]
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "dovecot_fixture.hpp"
#include "imap_connection.hpp"
#include "raw_imap_client.hpp"

using namespace rapport::imap;
using rapport::test::RawClient;
using Clock = std::chrono::steady_clock;

namespace {

const char* fields = "FROM TO CC DATE SUBJECT MESSAGE-ID IN-REPLY-TO REFERENCES AUTO-SUBMITTED CONTENT-TYPE";

long peak_rss_kb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

double raw_fetch(int port, const std::string& user, const std::string& password, std::size_t& bytes) {
    RawClient raw(port);
    raw.command("a", "LOGIN " + user + " " + password);
    raw.command("b", "EXAMINE INBOX");
    const auto t0 = Clock::now();
    bytes = raw.command("c", std::string("UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (") + fields + ")])");
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    raw.command("d", "LOGOUT");
    return s;
}

double our_fetch(int port, const std::string& user, const std::string& password,
                 ClientOptions client_options, std::size_t& messages, std::size_t& header_bytes) {
    boost::asio::io_context io;
    ConnectionOptions options;
    options.client = client_options;
    options.read_timeout = std::chrono::minutes(5);
    auto c = ImapConnection::create(io, options);
    Clock::time_point t0, t1;
    Error failure;
    c->connect({"127.0.0.1", static_cast<std::uint16_t>(port), Security::none, "", false},
               {user, password}, [&](const Error& e) {
                   if (e) return void(failure = e);
                   c->examine("INBOX", [&](const Error& e, const MailboxInfo&) {
                       if (e) return void(failure = e);
                       t0 = Clock::now();
                       std::vector<std::string> f = {"FROM", "TO", "CC", "DATE", "SUBJECT",
                                                     "MESSAGE-ID", "IN-REPLY-TO", "REFERENCES",
                                                     "AUTO-SUBMITTED", "CONTENT-TYPE"};
                       c->fetch_headers(1, 0, f,
                                        [&](const FetchedMessage& m) {
                                            ++messages;
                                            header_bytes += m.header_block.size();
                                        },
                                        [&](const Error& e, const FetchSummary&) {
                                            t1 = Clock::now();
                                            failure = e;
                                            c->close();
                                        });
                   });
               });
    io.run();
    if (failure) throw std::runtime_error("fetch failed: " + failure.message);
    return std::chrono::duration<double>(t1 - t0).count();
}

// Dovecot's process group, for SIGINT/SIGTERM/SIGHUP: the fixture's destructor does not run
// when a signal ends the bench, so the handler stops Dovecot by pid (kill() is signal-safe).
std::atomic<pid_t> g_dovecot{0};

extern "C" void stop_dovecot_and_exit(int sig) {
    const pid_t pid = g_dovecot.load();
    if (pid > 0) {
        ::kill(-pid, SIGTERM);
        ::kill(pid, SIGTERM);
    }
    const char msg[] = "imap_fetch_bench: interrupted; stopped Dovecot (its temp dir stays)\n";
    (void)!::write(2, msg, sizeof msg - 1);
    _exit(128 + sig);
}

}  // namespace

int main(int argc, char** argv) {
    struct sigaction sa {};
    sa.sa_handler = stop_dovecot_and_exit;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
    const std::size_t count = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 100000;
    ClientOptions client_options;
    if (argc > 2) client_options.fetch_batch = std::strtoul(argv[2], nullptr, 10);
    if (argc > 3) client_options.fetch_in_flight = std::strtoul(argv[3], nullptr, 10);
    try {
        const auto g0 = Clock::now();
        rapport::test::DovecotFixture::Options o;
        o.seed = {{"INBOX", count}};
        rapport::test::DovecotFixture dovecot(o);
        g_dovecot = dovecot.pid();
        std::printf("imap_fetch_bench: %zu messages seeded and Dovecot started in %.2f s\n", count,
                    std::chrono::duration<double>(Clock::now() - g0).count());

        std::size_t bytes = 0;
        // Untimed warm-up: Dovecot builds its index and header cache on the first pass, which
        // would otherwise favour whichever client runs second.
        const double warm = raw_fetch(dovecot.port(), dovecot.user(), dovecot.password(), bytes);
        std::printf("warm-up (raw, cold Dovecot cache): %.3f s\n", warm);

        const double raw = raw_fetch(dovecot.port(), dovecot.user(), dovecot.password(), bytes);
        const long rss_after_raw = peak_rss_kb();
        std::size_t messages = 0, header_bytes = 0;
        const double ours = our_fetch(dovecot.port(), dovecot.user(), dovecot.password(),
                                      client_options, messages, header_bytes);
        const long rss_after_ours = peak_rss_kb();
        if (messages != count) {
            std::fprintf(stderr, "expected %zu messages, got %zu\n", count, messages);
            return 1;
        }
        std::printf("raw single UID FETCH 1:*     : %8.3f s  (%zu bytes, %.0f msg/s)\n", raw, bytes,
                    static_cast<double>(count) / raw);
        std::printf("rapport fetch_headers (%zux%zu): %8.3f s  (%zu messages, %zu header bytes, %.0f msg/s)\n",
                    client_options.fetch_batch, client_options.fetch_in_flight, ours, messages,
                    header_bytes, static_cast<double>(count) / ours);
        std::printf("ratio rapport/raw            : %8.2f\n", ours / raw);
        std::printf("peak RSS: %ld KiB after raw, %ld KiB after rapport\n", rss_after_raw, rss_after_ours);
        g_dovecot = 0;  // the fixture's destructor stops it from here on
    } catch (const std::exception& e) {
        std::fprintf(stderr, "imap_fetch_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
